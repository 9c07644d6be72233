#include "proto/mailauth/header_field_list.hpp"

namespace postamt::mailauth {

bool header_name_equals(std::string_view name, std::string_view expected) {
  if (name.size() != expected.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char a = name[i], b = expected[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::vector<RawHeaderField> split_header_fields(std::string_view block) {
  std::vector<RawHeaderField> fields;
  std::size_t pos = 0;
  while (pos < block.size()) {
    // One field: its first line, then every continuation line.
    const std::size_t start = pos;
    std::size_t content_end = pos;
    bool first_line = true;
    while (pos < block.size()) {
      if (!first_line && block[pos] != ' ' && block[pos] != '\t') break;
      const std::size_t newline = block.find('\n', pos);
      const std::size_t line_end = newline == std::string_view::npos ? block.size() : newline;
      if (first_line && (line_end == pos || (line_end == pos + 1 && block[pos] == '\r'))) {
        return fields;  // the empty line that ends the header
      }
      content_end = (line_end > pos && block[line_end - 1] == '\r') ? line_end - 1 : line_end;
      pos = newline == std::string_view::npos ? block.size() : newline + 1;
      first_line = false;
    }
    const std::string_view text = block.substr(start, content_end - start);
    RawHeaderField field;
    field.offset = start;
    field.length = pos - start;
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      field.value = text;
    } else {
      std::string_view name = text.substr(0, colon);
      // obs-optional (RFC 5322 §4.5.8) allows WSP before the colon ("From :").
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      field.name = name;
      field.value = text.substr(colon + 1);
    }
    fields.push_back(field);
  }
  return fields;
}

}  // namespace postamt::mailauth
