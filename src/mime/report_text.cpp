#include "mime/report_text.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>

#include "base/base64.hpp"

namespace postamt::mime {

namespace {

// One character of UTF-8 (RFC 3629 §4): its code point and length, or nothing for an
// invalid sequence (overlong forms, surrogates and values past U+10FFFF included).
struct Utf8Char {
  std::uint32_t code_point = 0;
  std::size_t length = 0;
};

std::optional<Utf8Char> next_utf8(std::string_view s, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return Utf8Char{lead, 1};
  std::size_t length = 0;
  std::uint32_t code_point = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return std::nullopt;
  }
  if (pos + length > s.size()) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  return Utf8Char{code_point, length};
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string single_line_utf8(std::string_view text, std::size_t max_octets) {
  std::string out;
  out.reserve(std::min(text.size(), max_octets));
  bool pending_space = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (is_space(text[pos])) {
      pending_space = !out.empty();
      ++pos;
      continue;
    }
    std::string_view piece;
    const auto c = next_utf8(text, pos);
    if (!c || c->code_point < 0x20 || c->code_point == 0x7F ||
        (c->code_point >= 0x80 && c->code_point < 0xA0)) {
      piece = "?";
      pos += c ? c->length : 1;
    } else {
      piece = text.substr(pos, c->length);
      pos += c->length;
    }
    if (out.size() + (pending_space ? 1 : 0) + piece.size() > max_octets) break;
    if (pending_space) out += ' ';
    pending_space = false;
    out.append(piece);
  }
  return out;
}

std::string ascii_only(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const auto c = next_utf8(utf8, pos);
    const std::size_t length = c ? c->length : 1;
    out += (c && c->code_point < 0x80) ? utf8[pos] : '?';
    pos += length;
  }
  return out;
}

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string utf8_addr_xtext(std::string_view address) {
  // QCHAR = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e (RFC 6533 §3)
  const auto is_qchar = [](std::uint32_t c) {
    return c >= 0x21 && c <= 0x7E && c != '+' && c != '=' && c != '\\';
  };
  std::string out;
  std::size_t pos = 0;
  while (pos < address.size()) {
    const auto c = next_utf8(address, pos);
    const std::uint32_t code_point = c ? c->code_point : 0xFFFD;
    pos += c ? c->length : 1;
    if (is_qchar(code_point)) {
      out += static_cast<char>(code_point);
    } else {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "\\x{%X}", static_cast<unsigned>(code_point));
      out += buffer;
    }
  }
  return out;
}

std::string encoded_words(std::string_view utf8) {
  // 45 octets encode to 60 base64 characters; with "=?utf-8?b?" and "?=" that is 72.
  constexpr std::size_t kChunk = 45;
  std::string out;
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    std::size_t end = pos;
    while (end < utf8.size()) {
      const auto c = next_utf8(utf8, end);
      const std::size_t length = c ? c->length : 1;
      if (end + length - pos > kChunk) break;
      end += length;
    }
    if (!out.empty()) out += ' ';
    out += "=?utf-8?b?" + base64_encode(utf8.substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

std::string fold_field(std::string_view name, std::string_view value) {
  constexpr std::size_t kWidth = 78;
  std::string out(name);
  out += ':';
  std::size_t column = out.size();
  std::size_t pos = 0;
  while (pos < value.size()) {
    while (pos < value.size() && value[pos] == ' ') ++pos;
    if (pos >= value.size()) break;
    std::size_t end = value.find(' ', pos);
    if (end == std::string_view::npos) end = value.size();
    const std::string_view word = value.substr(pos, end - pos);
    if (column > name.size() + 1 && column + 1 + word.size() > kWidth) {
      out += "\r\n";  // the space below starts the continuation line
      column = 0;
    }
    out += ' ';
    out.append(word);
    column += 1 + word.size();
    pos = end;
  }
  out += "\r\n";
  return out;
}

std::string wrap_paragraph(std::string_view text, std::string_view indent, std::size_t width) {
  std::string out;
  std::string line(indent);
  bool line_has_word = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    if (line_has_word && line.size() + 1 + word.size() > width) {
      out += line + "\r\n";
      line.assign(indent);
      line_has_word = false;
    }
    if (line_has_word) line += ' ';
    line.append(word);
    line_has_word = true;
    pos = end;
  }
  if (line_has_word) out += line + "\r\n";
  return out;
}

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace postamt::mime
