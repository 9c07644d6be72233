#pragma once
// SearchString: a SEARCH string key's needle, matched as RFC 9051 §6.4.4 asks: "a
// substring ... case-insensitive". Case-insensitive means Unicode case folding (glib's
// g_utf8_casefold, which folds fully: "ÄPFEL" finds "äpfel", "STRASSE" finds "Straße"),
// with an allocation-free path when needle and text are both ASCII.
#include <string>
#include <string_view>

namespace postamt::imap {

// `text` as SearchString compares it: made valid UTF-8 (valid_utf8_text) and case-folded
// with g_utf8_casefold. Folding works character by character, so the folded text of a
// whole holds the folded text of each of its parts: what a full-text index can store.
std::string fold_for_search(std::string_view text);

class SearchString {
 public:
  // `needle` is UTF-8 (the session converted it from the command's CHARSET).
  explicit SearchString(std::string_view needle);

  // Whether the needle occurs in `text` (UTF-8; invalid octets count as U+FFFD). The empty
  // needle occurs in every text.
  bool found_in(std::string_view text) const;

 private:
  std::string folded_;
  bool ascii_ = true;
};

}  // namespace postamt::imap
