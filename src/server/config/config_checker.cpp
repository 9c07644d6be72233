#include "server/config/config_checker.hpp"

namespace postamt::config::detail {
namespace {

bool is_bare_key(std::string_view segment) {
  return !segment.empty() && std::ranges::all_of(segment, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

}  // namespace

std::string escape_controls(std::string_view text, bool escape_quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\u{:04X}", byte);
    } else if (escape_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string shown_value(std::string_view text) {
  if (text.size() <= kMaxShownValue) {
    return "\"" + escape_controls(text, true) + "\"";
  }
  std::size_t cut = kMaxShownValue;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;  // do not split a UTF-8 sequence
  }
  return "\"" + escape_controls(text.substr(0, cut), true) + "\"...";
}

// Appends one key segment in TOML's dotted-key spelling (quoted when not a bare key).
std::string join_key(std::string_view prefix, std::string_view segment) {
  std::string out(prefix);
  if (!out.empty()) {
    out += '.';
  }
  if (is_bare_key(segment)) {
    out += segment;
  } else {
    out += "\"" + escape_controls(segment, true) + "\"";
  }
  return out;
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string describe_range(std::int64_t min, std::int64_t max) {
  if (max == kNoUpperBound) {
    return fmt::format("an integer >= {}", min);
  }
  return fmt::format("an integer from {} to {}", min, max);
}

std::string list_choices(std::span<const std::string_view> names) {
  std::string out;
  for (const auto name : names) {
    out += out.empty() ? "" : ", ";
    out += "\"" + std::string(name) + "\"";
  }
  return out;
}

}  // namespace postamt::config::detail
