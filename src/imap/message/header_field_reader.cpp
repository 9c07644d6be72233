#include "imap/message/header_field_reader.hpp"

namespace postamt::imap {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

bool is_empty_line(std::string_view line) {
  return line == "\r\n" || line == "\n" || line == "\r";
}

std::string_view without_line_break(std::string_view s) {
  if (s.ends_with('\n')) s.remove_suffix(1);
  if (s.ends_with('\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::size_t HeaderFieldReader::line_end(std::size_t pos) const {
  const auto lf = header_.find('\n', pos);
  return lf == std::string_view::npos ? header_.size() : lf + 1;
}

std::optional<HeaderField> HeaderFieldReader::next() {
  if (pos_ >= header_.size()) return std::nullopt;
  const std::size_t begin = pos_;
  std::size_t end = line_end(begin);
  if (is_empty_line(header_.substr(begin, end - begin))) {
    empty_line_ = header_.substr(begin, end - begin);
    pos_ = header_.size();
    return std::nullopt;
  }
  // RFC 5322 §2.2.3: a line starting with WSP continues the field (unfolding).
  while (end < header_.size() && is_wsp(header_[end])) end = line_end(end);
  pos_ = end;

  HeaderField field;
  field.bytes = header_.substr(begin, end - begin);
  const std::string_view text = without_line_break(field.bytes);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    field.name = text;
    return field;
  }
  field.has_colon = true;
  field.name = text.substr(0, colon);
  while (!field.name.empty() && is_wsp(field.name.back())) field.name.remove_suffix(1);
  field.raw_value = text.substr(colon + 1);
  return field;
}

}  // namespace postamt::imap
