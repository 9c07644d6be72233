#include "mime/transfer_encoders.hpp"

#include "base/base64.hpp"

namespace postamt::mime {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

void append_escaped(std::string& out, unsigned char octet) {
  out += '=';
  out += kHexDigits[octet >> 4];
  out += kHexDigits[octet & 0x0F];
}

// Writes one line of `data` (without its CRLF) in encoded lines joined by soft breaks.
void encode_line(std::string& out, std::string_view line) {
  std::size_t column = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto octet = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    const auto token_length = [&](std::size_t at_column) -> std::size_t {
      if (octet == ' ' || octet == '\t') return last ? 3 : 1;    // rule 3
      if (octet == '-' && at_column == 0) return 3;               // never "--" at a line start
      if (octet >= 33 && octet <= 126 && octet != '=') return 1;  // rule 2
      return 3;                                                   // rule 1
    };
    // Room for the token, and for a soft break's "=" unless this is the line's end (rule 5).
    const std::size_t limit = last ? kMaxEncodedLineLength : kMaxEncodedLineLength - 1;
    if (column + token_length(column) > limit) {
      out += "=\r\n";
      column = 0;
    }
    const std::size_t length = token_length(column);
    if (length == 1) {
      out += static_cast<char>(octet);
    } else {
      append_escaped(out, octet);
    }
    column += length;
  }
}

}  // namespace

std::string encode_quoted_printable(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 8 + 16);
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t crlf = data.find("\r\n", pos);
    if (crlf == std::string_view::npos) {
      encode_line(out, data.substr(pos));
      break;
    }
    encode_line(out, data.substr(pos, crlf - pos));
    out += "\r\n";
    pos = crlf + 2;
  }
  return out;
}

std::string encode_base64_lines(std::string_view data) {
  const std::string encoded = base64_encode(data);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / kMaxEncodedLineLength * 2 + 2);
  for (std::size_t pos = 0; pos < encoded.size(); pos += kMaxEncodedLineLength) {
    if (pos > 0) out += "\r\n";
    out.append(encoded, pos, kMaxEncodedLineLength);
  }
  return out;
}

}  // namespace postamt::mime
