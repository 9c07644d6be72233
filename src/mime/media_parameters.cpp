#include "mime/media_parameters.hpp"

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string_view>

#include "mime/ascii_case.hpp"
#include "mime/header_decoding.hpp"

namespace postamt::mime {

namespace {

struct RawParameter {
  std::string name;  // lower case, as written (with any RFC 2231 "*n*" suffix)
  std::string value;
};

// One RFC 2231 segment: base*index[*] = value.
struct Segment {
  std::string value;
  bool encoded = false;
};

struct Group {
  std::string base;
  std::optional<std::string> plain;        // base=value
  std::map<unsigned, Segment> segments;    // base*n[*]=value
  std::optional<Segment> single_extended;  // base*=value
};

void skip_to_semicolon(FieldCursor& cursor) {
  while (!cursor.at_end() && cursor.peek() != ';') {
    if (cursor.peek() == '"') {
      cursor.read_quoted_string();
    } else if (cursor.peek() == '(') {
      cursor.skip_cfws();
    } else {
      cursor.advance();
    }
  }
}

std::optional<RawParameter> read_parameter(FieldCursor& cursor) {
  const std::string_view name = cursor.read_while(is_mime_token_char);
  if (name.empty()) return std::nullopt;
  cursor.skip_cfws();
  if (cursor.peek() != '=') return std::nullopt;
  cursor.advance();
  cursor.skip_cfws();
  RawParameter parameter{ascii_lowercase(name), {}};
  if (cursor.peek() == '"') {
    parameter.value = cursor.read_quoted_string();
  } else {
    // RFC 2045 wants a token here, but real mail carries unquoted values with tspecials
    // and even spaces (boundary=----=_Part_1, name=My File.pdf): take everything up to
    // the next ";" or comment, without the white space around it.
    std::string_view value =
        cursor.read_while([](char c) { return c != ';' && c != '(' && c != '"'; });
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                              value.back() == '\n')) {
      value.remove_suffix(1);
    }
    parameter.value = std::string(value);
  }
  return parameter;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 2231 §4: extended-other-values are %XX-encoded octets.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Splits "name*12*" into ("name", 12, encoded=true); "name*" into ("name", none, true).
struct SplitName {
  std::string base;
  std::optional<unsigned> index;
  bool encoded = false;
  bool extended = false;  // has any RFC 2231 syntax
};

SplitName split_name(const std::string& name) {
  const SplitName plain{name, std::nullopt, false, false};
  std::string_view rest = name;
  bool encoded = false;
  if (rest.size() > 1 && rest.back() == '*') {  // "name*" or "name*N*": charset-encoded
    encoded = true;
    rest.remove_suffix(1);
  }
  std::optional<unsigned> index;
  const auto star = rest.rfind('*');
  if (star != std::string_view::npos && star > 0) {
    const std::string_view digits = rest.substr(star + 1);
    if (digits.empty() || digits.size() > 6 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return plain;  // not RFC 2231 syntax: keep the name as written
    }
    unsigned n = 0;
    for (char c : digits) n = n * 10 + static_cast<unsigned>(c - '0');
    index = n;
    rest = rest.substr(0, star);
  }
  if (!encoded && !index) return plain;
  return SplitName{std::string(rest), index, encoded, true};
}

// Joins a group's RFC 2231 segments into one parameter (RFC 2231 §3 and §4.1).
std::optional<MediaParameter> join_segments(const Group& group) {
  std::vector<const Segment*> ordered;
  if (!group.segments.empty()) {
    unsigned expected = 0;
    for (const auto& [index, segment] : group.segments) {
      if (index != expected) break;  // a gap: the rest cannot be placed
      ordered.push_back(&segment);
      ++expected;
    }
    if (ordered.empty()) return std::nullopt;  // no segment 0
  } else if (group.single_extended) {
    ordered.push_back(&*group.single_extended);
  } else {
    return std::nullopt;
  }

  const bool any_encoded =
      std::any_of(ordered.begin(), ordered.end(), [](const Segment* s) { return s->encoded; });
  if (!any_encoded) {
    std::string joined;
    for (const Segment* segment : ordered) joined += segment->value;
    return MediaParameter{group.base, std::move(joined)};
  }

  // The first segment, if encoded, starts with charset'language' (RFC 2231 §4).
  std::string charset;
  std::string raw_joined;
  std::string octets;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    std::string_view value = ordered[i]->value;
    raw_joined += value;
    if (i == 0 && ordered[i]->encoded) {
      const auto first = value.find('\'');
      const auto second = first == std::string_view::npos ? first : value.find('\'', first + 1);
      if (second != std::string_view::npos) {
        charset = std::string(value.substr(0, first));
        value.remove_prefix(second + 1);
      }
    }
    octets += ordered[i]->encoded ? percent_decode(value) : std::string(value);
  }
  auto utf8 = charset_to_utf8(octets, charset);
  return MediaParameter{group.base + "*", utf8 ? std::move(*utf8) : std::move(raw_joined)};
}

}  // namespace

bool is_mime_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

std::vector<MediaParameter> parse_media_parameters(FieldCursor& cursor) {
  std::vector<RawParameter> raw;
  while (true) {
    cursor.skip_cfws();
    if (cursor.at_end()) break;
    if (cursor.peek() != ';') {
      skip_to_semicolon(cursor);  // garbage after a value
      continue;
    }
    cursor.advance();
    cursor.skip_cfws();
    if (cursor.at_end()) break;
    if (cursor.peek() == ';') continue;
    if (auto parameter = read_parameter(cursor)) {
      raw.push_back(std::move(*parameter));
    } else {
      skip_to_semicolon(cursor);
    }
    if (raw.size() >= 1000) break;  // bound the work on hostile headers
  }

  // Group by base name, in order of first appearance.
  std::vector<Group> groups;
  for (auto& parameter : raw) {
    const SplitName split = split_name(parameter.name);
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const Group& g) { return g.base == split.base; });
    if (group == groups.end()) {
      groups.push_back(Group{split.base, {}, {}, {}});
      group = std::prev(groups.end());
    }
    if (!split.extended) {
      if (!group->plain) group->plain = std::move(parameter.value);
    } else if (split.index) {
      group->segments.try_emplace(*split.index, Segment{std::move(parameter.value), split.encoded});
    } else if (!group->single_extended) {
      group->single_extended = Segment{std::move(parameter.value), true};
    }
  }

  std::vector<MediaParameter> out;
  for (const Group& group : groups) {
    auto joined = join_segments(group);
    const bool joined_is_plain_name = joined && joined->name == group.base;
    if (group.plain) out.push_back(MediaParameter{group.base, *group.plain});
    // A plain "name" and an unencoded RFC 2231 continuation of it would both be "name":
    // the plain one wins. "name*" is a separate parameter.
    if (joined && !(joined_is_plain_name && group.plain)) out.push_back(std::move(*joined));
  }
  return out;
}

}  // namespace postamt::mime
