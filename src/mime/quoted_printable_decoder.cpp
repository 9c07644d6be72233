#include "mime/quoted_printable_decoder.hpp"

#include <cstddef>

namespace postamt::mime {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void decode_line(std::string& out, std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '=' && i + 2 < line.size() && hex_value(line[i + 1]) >= 0 &&
        hex_value(line[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(line[i + 1]) * 16 + hex_value(line[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

std::string decode_quoted_printable(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  std::size_t pos = 0;
  while (pos < encoded.size()) {
    const auto lf = encoded.find('\n', pos);
    const std::size_t next = lf == std::string_view::npos ? encoded.size() : lf + 1;
    std::string_view line = encoded.substr(pos, next - pos);
    std::string_view line_break;
    if (line.ends_with("\r\n")) {
      line_break = line.substr(line.size() - 2);
    } else if (line.ends_with("\n")) {
      line_break = line.substr(line.size() - 1);
    }
    line.remove_suffix(line_break.size());
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.ends_with("=")) {
      line.remove_suffix(1);
      decode_line(out, line);  // soft line break: no line break in the output
    } else {
      decode_line(out, line);
      out.append(line_break);
    }
    pos = next;
  }
  return out;
}

}  // namespace postamt::mime
