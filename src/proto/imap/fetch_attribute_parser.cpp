#include "proto/imap/fetch_attribute_parser.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_set>
#include <utility>

#include "proto/imap/command_arguments.hpp"

namespace postamt::proto::imap {
namespace {

using Kind = FetchAttribute::Kind;

struct SimpleItem {
  std::string_view name;
  Kind kind;
};

constexpr std::array<SimpleItem, 11> kSimpleItems = {{
    {"ENVELOPE", Kind::envelope},
    {"FLAGS", Kind::flags},
    {"INTERNALDATE", Kind::internal_date},
    {"RFC822", Kind::rfc822},
    {"RFC822.HEADER", Kind::rfc822_header},
    {"RFC822.TEXT", Kind::rfc822_text},
    {"RFC822.SIZE", Kind::rfc822_size},
    {"BODY", Kind::body},
    {"BODYSTRUCTURE", Kind::body_structure},
    {"UID", Kind::uid},
    {"MODSEQ", Kind::modseq},  // RFC 7162 §3.1.4
}};

FetchAttribute simple(Kind kind) {
  FetchAttribute attribute;
  attribute.kind = kind;
  return attribute;
}

// partial = "<" number64 "." nz-number64 ">" (RFC 9051 §9), clamped to 32 bits.
std::expected<Partial, std::string> parse_partial(std::string_view text) {
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') {
    return std::unexpected("Invalid partial " + preview(text));
  }
  const std::string_view inner = text.substr(1, text.size() - 2);
  const std::size_t dot = inner.find('.');
  if (dot == std::string_view::npos) return std::unexpected("Invalid partial " + preview(text));
  auto offset = parse_number64(inner.substr(0, dot), "partial offset");
  if (!offset) return std::unexpected(std::move(offset.error()));
  const std::string_view length_text = inner.substr(dot + 1);
  if (!length_text.empty() && length_text.front() == '0') {
    return std::unexpected("Invalid partial length: must be a non-zero number");
  }
  auto length = parse_number64(length_text, "partial length");
  if (!length) return std::unexpected(std::move(length.error()));
  constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
  Partial partial;
  partial.offset = static_cast<std::uint32_t>(std::min(*offset, kMax32));
  partial.length = static_cast<std::uint32_t>(std::min(*length, kMax32));
  return partial;
}

// header-list = "(" header-fld-name *(SP header-fld-name) ")", names upper-cased.
std::expected<std::vector<std::string>, std::string> parse_header_list(std::string_view text) {
  if (text.size() < 3 || text.front() != '(' || text.back() != ')') {
    return std::unexpected("Invalid section: header list expected");
  }
  std::string_view inner = text.substr(1, text.size() - 2);
  std::vector<std::string> fields;
  while (true) {
    const std::size_t space = inner.find(' ');
    const std::string_view name = inner.substr(0, space);
    if (name.empty()) return std::unexpected("Invalid section: empty header field name");
    for (char c : name) {
      if (!is_astring_char(c)) {
        return std::unexpected("Invalid section: bad header field name " + preview(name));
      }
    }
    fields.push_back(to_upper(name));
    if (space == std::string_view::npos) break;
    inner.remove_prefix(space + 1);
  }
  return fields;
}

// A key that is equal for equal attributes, for dropping duplicates in linear time.
std::string dedup_key(const FetchAttribute& attribute) {
  std::string key;
  key += static_cast<char>('A' + static_cast<int>(attribute.kind));
  key += attribute.peek ? 'p' : '-';
  key += static_cast<char>('a' + static_cast<int>(attribute.section.text));
  for (std::uint32_t part : attribute.section.part) key += std::to_string(part) + ".";
  key += '|';  // parts hold no "|": the first one ends them
  for (const std::string& field : attribute.section.fields) key += field + " ";
  if (attribute.partial) {
    key += "<" + std::to_string(attribute.partial->offset) + "." +
           std::to_string(attribute.partial->length) + ">";
  }
  return key;
}

bool is_macro(std::string_view name) {
  return equals_ignoring_case(name, "ALL") || equals_ignoring_case(name, "FAST") ||
         equals_ignoring_case(name, "FULL");
}

// RFC 9051 §6.4.5: ALL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE), FAST = (FLAGS
// INTERNALDATE RFC822.SIZE), FULL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY).
std::vector<FetchAttribute> expand_macro(std::string_view name) {
  std::vector<FetchAttribute> out = {simple(Kind::flags), simple(Kind::internal_date),
                                     simple(Kind::rfc822_size)};
  if (!equals_ignoring_case(name, "FAST")) out.push_back(simple(Kind::envelope));
  if (equals_ignoring_case(name, "FULL")) out.push_back(simple(Kind::body));
  return out;
}

}  // namespace

std::expected<Section, std::string> parse_section(std::string_view text, bool binary) {
  Section section;
  // section-part = nz-number *("." nz-number)
  while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    const std::size_t dot = text.find('.');
    auto part = parse_nz_number(text.substr(0, dot), "section part number");
    if (!part) return std::unexpected("Invalid section: " + part.error());
    section.part.push_back(*part);
    if (dot == std::string_view::npos) {
      text = {};
      break;
    }
    text.remove_prefix(dot + 1);
    if (text.empty()) return std::unexpected("Invalid section: ends in \".\"");
  }
  if (text.empty()) return section;
  if (binary) return std::unexpected("Invalid section: BINARY takes part numbers only");
  const std::size_t space = text.find(' ');
  const std::string keyword = to_upper(text.substr(0, space));
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  if (keyword == "HEADER.FIELDS" || keyword == "HEADER.FIELDS.NOT") {
    if (space == std::string_view::npos) {
      return std::unexpected("Invalid section: " + keyword + " needs a header list");
    }
    auto fields = parse_header_list(rest);
    if (!fields) return std::unexpected(std::move(fields.error()));
    section.fields = std::move(*fields);
    section.text = keyword == "HEADER.FIELDS" ? Section::Text::header_fields
                                              : Section::Text::header_fields_not;
    return section;
  }
  if (space != std::string_view::npos) {
    return std::unexpected("Invalid section: unexpected text after " + preview(keyword));
  }
  if (keyword == "HEADER") {
    section.text = Section::Text::header;
  } else if (keyword == "TEXT") {
    section.text = Section::Text::text;
  } else if (keyword == "MIME" && !section.part.empty()) {  // section-text only after a part
    section.text = Section::Text::mime;
  } else if (keyword == "MIME") {
    return std::unexpected("Invalid section: MIME needs a part number");
  } else {
    return std::unexpected("Invalid section: unknown section text " + preview(keyword));
  }
  return section;
}

std::expected<FetchAttribute, std::string> parse_fetch_attribute(std::string_view text) {
  const std::size_t open = text.find('[');
  const std::string name = to_upper(text.substr(0, open));
  if (open == std::string_view::npos) {
    for (const SimpleItem& item : kSimpleItems) {
      if (name == item.name) return simple(item.kind);
    }
    return std::unexpected("Unknown fetch attribute " + preview(text));
  }
  FetchAttribute attribute;
  bool binary = true;
  if (name == "BODY" || name == "BODY.PEEK") {
    attribute.kind = Kind::body_section;
    binary = false;
  } else if (name == "BINARY" || name == "BINARY.PEEK") {
    attribute.kind = Kind::binary;
  } else if (name == "BINARY.SIZE") {
    attribute.kind = Kind::binary_size;
  } else {
    return std::unexpected("Unknown fetch attribute " + preview(text));
  }
  attribute.peek = name.ends_with(".PEEK");
  const std::size_t close = text.find(']', open);
  if (close == std::string_view::npos) {
    return std::unexpected("Missing ] in fetch attribute " + preview(text));
  }
  auto section = parse_section(text.substr(open + 1, close - open - 1), binary);
  if (!section) return std::unexpected(std::move(section.error()));
  attribute.section = std::move(*section);
  const std::string_view rest = text.substr(close + 1);
  if (!rest.empty()) {
    if (attribute.kind == Kind::binary_size) {
      return std::unexpected("BINARY.SIZE takes no partial: " + preview(text));
    }
    auto partial = parse_partial(rest);
    if (!partial) return std::unexpected(std::move(partial.error()));
    attribute.partial = *partial;
  }
  return attribute;
}

std::expected<std::vector<FetchAttribute>, std::string> parse_fetch_attributes(Value& value) {
  std::vector<FetchAttribute> out;
  std::unordered_set<std::string> seen;
  auto add = [&](FetchAttribute attribute) {
    if (seen.insert(dedup_key(attribute)).second) out.push_back(std::move(attribute));
  };
  if (value.kind == Value::Kind::atom) {
    if (is_macro(value.text)) return expand_macro(value.text);
    auto attribute = parse_fetch_attribute(value.text);
    if (!attribute) return std::unexpected(std::move(attribute.error()));
    out.push_back(std::move(*attribute));
    return out;
  }
  if (value.kind != Value::Kind::list) return std::unexpected("Invalid fetch attributes");
  if (value.items.empty()) return std::unexpected("Empty fetch attribute list");
  for (const Value& item : value.items) {
    if (item.kind != Value::Kind::atom) return std::unexpected("Invalid fetch attribute");
    if (is_macro(item.text)) {
      return std::unexpected("FETCH macro " + to_upper(item.text) + " must stand alone");
    }
    auto attribute = parse_fetch_attribute(item.text);
    if (!attribute) return std::unexpected(std::move(attribute.error()));
    add(std::move(*attribute));
  }
  return out;
}

}  // namespace postamt::proto::imap
