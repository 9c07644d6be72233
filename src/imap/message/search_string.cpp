#include "imap/message/search_string.hpp"

#include <glib.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "imap/message/message_text.hpp"
#include "mime/ascii_case.hpp"

namespace postamt::imap {

namespace {

struct GFree {
  void operator()(char* p) const { g_free(p); }
};

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string case_folded(std::string_view text) {
  const std::string valid = valid_utf8_text(text);
  const std::unique_ptr<char, GFree> folded(
      g_utf8_casefold(valid.data(), static_cast<gssize>(valid.size())));
  return folded.get();
}

struct AsciiLowerHash {
  std::size_t operator()(char c) const { return static_cast<unsigned char>(mime::ascii_lower(c)); }
};
struct AsciiLowerEqual {
  bool operator()(char a, char b) const { return mime::ascii_lower(a) == mime::ascii_lower(b); }
};

}  // namespace

std::string fold_for_search(std::string_view text) { return case_folded(text); }

SearchString::SearchString(std::string_view needle) : folded_(case_folded(needle)) {
  ascii_ = is_ascii(folded_);
}

bool SearchString::found_in(std::string_view text) const {
  if (folded_.empty()) return true;
  if (ascii_ && is_ascii(text)) {
    // For ASCII, case folding is lower-casing: no copy of the text is needed.
    const std::boyer_moore_horspool_searcher searcher(folded_.begin(), folded_.end(),
                                                      AsciiLowerHash{}, AsciiLowerEqual{});
    return std::search(text.begin(), text.end(), searcher) != text.end();
  }
  return case_folded(text).find(folded_) != std::string::npos;
}

}  // namespace postamt::imap
