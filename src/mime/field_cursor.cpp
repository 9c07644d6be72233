#include "mime/field_cursor.hpp"

namespace postamt::mime {

namespace {

bool is_white_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool FieldCursor::skip_cfws() {
  const std::size_t start = pos_;
  while (!at_end()) {
    const char c = text_[pos_];
    if (is_white_space(c)) {
      ++pos_;
    } else if (c == '(') {
      last_comment_ = read_comment();
    } else {
      break;
    }
  }
  return pos_ != start;
}

std::string FieldCursor::read_comment() {
  // comment = "(" *([FWS] ccontent) [FWS] ")", ccontent may nest comments.
  std::string content;
  int depth = 0;
  while (!at_end()) {
    const char c = text_[pos_++];
    if (c == '\\' && !at_end()) {
      content.push_back(text_[pos_++]);
    } else if (c == '(') {
      if (depth > 0) content.push_back(c);
      ++depth;
    } else if (c == ')') {
      --depth;
      if (depth == 0) break;
      content.push_back(c);
    } else if (c != '\r' && c != '\n') {
      content.push_back(c);
    }
  }
  return content;
}

std::string FieldCursor::read_quoted_string() {
  std::string content;
  ++pos_;  // the opening DQUOTE
  while (!at_end()) {
    const char c = text_[pos_++];
    if (c == '"') break;
    if (c == '\\' && !at_end()) {
      content.push_back(text_[pos_++]);
    } else if (c != '\r' && c != '\n') {  // folding inside quotes is not content (§3.2.4)
      content.push_back(c);
    }
  }
  return content;
}

std::string FieldCursor::read_domain_literal() {
  std::string literal;
  while (!at_end()) {
    const char c = text_[pos_++];
    if (c == '\\' && !at_end()) {
      literal.push_back(text_[pos_++]);
      continue;
    }
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    literal.push_back(c);
    if (c == ']') break;
  }
  return literal;
}

}  // namespace postamt::mime
