#pragma once
// ASCII case folding for protocol tokens (header names, media types, parameter names),
// which RFC 5322 §1.2.2 and RFC 2045 §5.1 compare case-insensitively. Locale-free.
#include <algorithm>
#include <string>
#include <string_view>

namespace postamt::mime {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool ascii_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

inline std::string ascii_lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

}  // namespace postamt::mime
