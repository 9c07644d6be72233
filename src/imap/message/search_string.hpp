#pragma once
// SearchString: a SEARCH string key's needle, matched as RFC 9051 §6.4.4 asks: "a
// substring ... case-insensitive". Case-insensitive means Unicode case folding (glib's
// g_utf8_casefold, which folds fully: "ÄPFEL" finds "äpfel", "STRASSE" finds "Straße"),
// with an allocation-free path when needle and text are both ASCII.
#include <string>
#include <string_view>

namespace postamt::imap {

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
