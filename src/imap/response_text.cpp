#include "imap/response_text.hpp"

namespace postamt::imap {
namespace {

// Longer strings go as literals: some clients handle long quoted strings badly, and a
// literal needs no escaping.
constexpr std::size_t kMaxQuoted = 1024;

}  // namespace

void append_string(std::string& out, std::string_view text, bool utf8_allowed) {
  bool quotable = text.size() <= kMaxQuoted;
  for (unsigned char c : text) {
    if (!quotable) break;
    if (c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !utf8_allowed)) quotable = false;
  }
  if (!quotable) {
    out += '{';
    out += std::to_string(text.size());
    out += "}\r\n";
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::string compact_set(std::span<const std::uint32_t> numbers) {
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(numbers[i]);
    if (j > i) out += ':' + std::to_string(numbers[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace postamt::imap
