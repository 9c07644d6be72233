#pragma once
// FieldCursor: the lexical layer shared by the structured-field parsers (addresses,
// Content-Type and friends): white space, comments and quoted strings as RFC 5322 §3.2
// defines them. Every read is total: unterminated quotes and comments run to the end of
// the value instead of failing, which is what "best effort" means for broken headers.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mime {

class FieldCursor {
 public:
  explicit FieldCursor(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void advance() {
    if (!at_end()) ++pos_;
  }
  std::size_t position() const { return pos_; }

  // Skips CFWS (RFC 5322 §3.2.2): white space, line breaks and nested comments. Returns
  // whether anything was skipped; the text of the last comment is kept in last_comment().
  bool skip_cfws();
  const std::optional<std::string>& last_comment() const { return last_comment_; }
  void clear_last_comment() { last_comment_.reset(); }

  // At a DQUOTE: the quoted-string's content with quoted-pairs undone (RFC 5322 §3.2.4).
  std::string read_quoted_string();

  // At '[': a domain-literal kept as written, brackets included (RFC 5322 §3.4.1).
  std::string read_domain_literal();

  // Reads the longest run of characters for which pred is true.
  template <class Pred>
  std::string_view read_while(Pred pred) {
    const std::size_t start = pos_;
    while (!at_end() && pred(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

 private:
  std::string read_comment();

  std::string_view text_;
  std::size_t pos_ = 0;
  std::optional<std::string> last_comment_;
};

}  // namespace postamt::mime
