#include "mime/imap_string.hpp"

#include <algorithm>

namespace postamt::mime {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

bool quotable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0 || u >= 0x80 || u == '\r' || u == '\n';
  });
}

}  // namespace

void append_imap_string(std::string& out, std::string_view s) {
  if (quotable(s)) {
    out.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
    return;
  }
  std::string content;
  content.reserve(s.size());
  for (char c : s) {
    if (c == '\0') {
      content.append(kReplacementCharacter);
    } else {
      content.push_back(c);
    }
  }
  out.push_back('{');
  out.append(std::to_string(content.size()));
  out.append("}\r\n");
  out.append(content);
}

void append_imap_nstring(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out.append("NIL");
    return;
  }
  append_imap_string(out, *s);
}

}  // namespace postamt::mime
