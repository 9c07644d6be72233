#include "proto/imap/command_arguments.hpp"

#include <utility>

namespace postamt::proto::imap {
namespace {

constexpr std::uint64_t kMaxNumber64 = 9223372036854775807ull;  // 2^63 - 1

// 1*DIGIT up to `max`; leading zeros allowed (number, number64).
std::expected<std::uint64_t, std::string> parse_digits(std::string_view text, std::string_view what,
                                                       std::uint64_t max) {
  if (text.empty()) return std::unexpected("Missing " + std::string(what));
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::unexpected("Invalid " + std::string(what) + ": " + preview(text));
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) {
      return std::unexpected(std::string(what) + " too large: " + preview(text));
    }
    value = value * 10 + digit;
  }
  return value;
}

std::string wrong_kind(const Value& value, std::string_view what) {
  return "Invalid " + std::string(what) + ": " + describe(value);
}

}  // namespace

std::string preview(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string describe(const Value& value) {
  switch (value.kind) {
    case Value::Kind::atom:
    case Value::Kind::nil: return preview(value.text);
    case Value::Kind::quoted: return "\"" + preview(value.text) + "\"";
    case Value::Kind::literal: return "literal";
    case Value::Kind::list: return "(...)";
  }
  return "?";
}

bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x1f || u >= 0x7f) return false;  // CTL, and CHAR is 7-bit
  switch (c) {
    case '(':
    case ')':
    case '{':
    case ' ':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']': return false;
    default: return true;
  }
}

bool is_astring_char(char c) { return c == ']' || is_atom_char(c); }

bool is_list_char(char c) { return c == '%' || c == '*' || is_astring_char(c); }

bool is_atom(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_atom_char(c)) return false;
  }
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    const auto lx = (x >= 'A' && x <= 'Z') ? x + 32 : x;
    const auto ly = (y >= 'A' && y <= 'Z') ? y + 32 : y;
    if (lx != ly) return false;
  }
  return true;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         equals_ignoring_case(text.substr(0, prefix.size()), prefix);
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::expected<std::uint32_t, std::string> parse_number(std::string_view text,
                                                       std::string_view what) {
  auto value = parse_digits(text, what, 0xFFFFFFFFu);
  if (!value) return std::unexpected(std::move(value.error()));
  return static_cast<std::uint32_t>(*value);
}

std::expected<std::uint32_t, std::string> parse_nz_number(std::string_view text,
                                                          std::string_view what) {
  if (!text.empty() && text.front() == '0') {  // nz-number = digit-nz *DIGIT
    return std::unexpected("Invalid " + std::string(what) + ": " + preview(text));
  }
  return parse_number(text, what);
}

std::expected<std::uint64_t, std::string> parse_number64(std::string_view text,
                                                         std::string_view what) {
  return parse_digits(text, what, kMaxNumber64);
}

std::expected<std::uint64_t, std::string> parse_mod_sequence_value(std::string_view text,
                                                                   std::string_view what) {
  auto value = parse_digits(text, what, kMaxNumber64);
  if (value && *value == 0) {
    return std::unexpected("Invalid " + std::string(what) + ": must not be 0");
  }
  return value;
}

std::expected<SequenceSet, std::string> parse_sequence_set(const Value& value, bool allow_saved) {
  if (value.kind != Value::Kind::atom) {
    return std::unexpected("Invalid sequence set: " + describe(value));
  }
  if (value.text == "$" && !allow_saved) {
    return std::unexpected("Invalid sequence set: $ not allowed here");
  }
  auto set = SequenceSet::parse(value.text);
  if (!set) return std::unexpected("Invalid sequence set: " + set.error());
  return set;
}

std::expected<std::string, std::string> take_astring(Value& value, std::string_view what) {
  switch (value.kind) {
    case Value::Kind::quoted: return std::move(value.text);
    case Value::Kind::literal:
      if (value.binary) return std::unexpected("literal8 not allowed for " + std::string(what));
      return std::move(value.text);
    case Value::Kind::atom:
    case Value::Kind::nil:
      for (char c : value.text) {
        if (!is_astring_char(c)) return std::unexpected(wrong_kind(value, what));
      }
      return std::move(value.text);
    case Value::Kind::list: break;
  }
  return std::unexpected(wrong_kind(value, what));
}

std::expected<std::string, std::string> take_mailbox(Value& value) {
  auto name = take_astring(value, "mailbox name");
  if (name && equals_ignoring_case(*name, "INBOX")) *name = "INBOX";
  return name;
}

std::expected<std::string, std::string> take_list_mailbox(Value& value) {
  if (value.kind == Value::Kind::atom || value.kind == Value::Kind::nil) {
    for (char c : value.text) {
      if (!is_list_char(c)) return std::unexpected(wrong_kind(value, "mailbox pattern"));
    }
    return std::move(value.text);
  }
  return take_string(value, "mailbox pattern");
}

std::expected<std::string, std::string> take_string(Value& value, std::string_view what) {
  if (value.kind == Value::Kind::quoted || (value.kind == Value::Kind::literal && !value.binary)) {
    return std::move(value.text);
  }
  return std::unexpected(wrong_kind(value, what));
}

std::expected<std::string, std::string> take_upper_atom(Value& value, std::string_view what) {
  if ((value.kind != Value::Kind::atom && value.kind != Value::Kind::nil) || !is_atom(value.text)) {
    return std::unexpected(wrong_kind(value, what));
  }
  return to_upper(value.text);
}

std::expected<std::string, std::string> take_flag(Value& value) {
  // flag-extension = "\" atom; flag-keyword = atom (RFC 9051 §9).
  if (value.kind == Value::Kind::atom || value.kind == Value::Kind::nil) {
    const std::string_view text = value.text;
    const std::string_view name = text.starts_with('\\') ? text.substr(1) : text;
    if (is_atom(name)) return std::move(value.text);
  }
  return std::unexpected(wrong_kind(value, "flag"));
}

std::expected<std::vector<std::string>, std::string> take_flag_list(Value& value) {
  if (value.kind != Value::Kind::list) return std::unexpected(wrong_kind(value, "flag list"));
  std::vector<std::string> flags;
  flags.reserve(value.items.size());
  for (Value& item : value.items) {
    auto flag = take_flag(item);
    if (!flag) return std::unexpected(std::move(flag.error()));
    flags.push_back(std::move(*flag));
  }
  return flags;
}

bool is_keyword(const Value& value, std::string_view keyword) {
  return value.kind == Value::Kind::atom && equals_ignoring_case(value.text, keyword);
}

std::expected<Value*, std::string> ArgumentCursor::next(std::string_view what) {
  if (at_end()) return std::unexpected("Missing " + std::string(what));
  return &values_[position_++];
}

std::expected<std::string, std::string> ArgumentCursor::astring(std::string_view what) {
  auto value = next(what);
  if (!value) return std::unexpected(std::move(value.error()));
  return take_astring(**value, what);
}

std::expected<std::string, std::string> ArgumentCursor::mailbox() {
  auto value = next("mailbox name");
  if (!value) return std::unexpected(std::move(value.error()));
  return take_mailbox(**value);
}

std::expected<std::string, std::string> ArgumentCursor::upper_atom(std::string_view what) {
  auto value = next(what);
  if (!value) return std::unexpected(std::move(value.error()));
  return take_upper_atom(**value, what);
}

std::expected<SequenceSet, std::string> ArgumentCursor::sequence_set() {
  auto value = next("sequence set");
  if (!value) return std::unexpected(std::move(value.error()));
  return parse_sequence_set(**value);
}

bool ArgumentCursor::accept_keyword(std::string_view keyword) {
  if (at_end() || !is_keyword(values_[position_], keyword)) return false;
  ++position_;
  return true;
}

std::vector<Value> ArgumentCursor::take_rest() {
  std::vector<Value> rest;
  rest.reserve(remaining());
  while (!at_end()) rest.push_back(std::move(values_[position_++]));
  return rest;
}

std::expected<void, std::string> ArgumentCursor::finish() {
  if (at_end()) return {};
  return std::unexpected("Unexpected argument " + describe(values_[position_]));
}

}  // namespace postamt::proto::imap
