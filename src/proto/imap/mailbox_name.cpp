#include "proto/imap/mailbox_name.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace postamt::proto::imap {
namespace {

constexpr std::string_view kModifiedBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool is_printable_ascii(char32_t c) { return c >= 0x20 && c <= 0x7e; }

int base64_value(char c) {
  const std::size_t at = kModifiedBase64.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

// The next code point of UTF-8 text at `pos` (advanced), or nothing if malformed.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 0;
  char32_t c = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, c = lead & 0x1f, minimum = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, c = lead & 0x0f, minimum = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, c = lead & 0x07, minimum = 0x10000;
  } else {
    return std::nullopt;
  }
  if (pos + length > text.size()) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const auto continuation = static_cast<unsigned char>(text[pos + i]);
    if ((continuation & 0xc0) != 0x80) return std::nullopt;
    c = (c << 6) | (continuation & 0x3f);
  }
  if (c < minimum || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return std::nullopt;
  pos += length;
  return c;
}

// One "&...-" run's BASE64 (without "&" and "-") to UTF-8, appended to `out`.
std::optional<std::string> decode_run(std::string_view run, std::string& out) {
  // Whole UTF-16 units need 16k bits; 6n bits leave fewer than 6 over only when
  // n % 8 is 0, 3 or 6 (RFC 3501 §5.1.3 "no padding"); the leftover bits must be zero.
  if (run.size() % 8 != 0 && run.size() % 8 != 3 && run.size() % 8 != 6) {
    return "Invalid modified BASE64 length in mailbox name";
  }
  std::uint32_t bits = 0;
  int bit_count = 0;
  char32_t high_surrogate = 0;
  for (char c : run) {
    const int value = base64_value(c);
    if (value < 0) return "Invalid character in modified BASE64 of mailbox name";
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count < 16) continue;
    bit_count -= 16;
    const char32_t unit = (bits >> bit_count) & 0xffff;
    bits &= (1u << bit_count) - 1;
    if (high_surrogate != 0) {
      if (unit < 0xdc00 || unit > 0xdfff) return "Unpaired surrogate in mailbox name";
      append_utf8(out, 0x10000 + ((high_surrogate - 0xd800) << 10) + (unit - 0xdc00));
      high_surrogate = 0;
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      high_surrogate = unit;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return "Unpaired surrogate in mailbox name";
    } else if (is_printable_ascii(unit)) {
      return "Printable ASCII encoded in mailbox name";
    } else if (unit == 0) {
      return "NUL in mailbox name";
    } else {
      append_utf8(out, unit);
    }
  }
  if (high_surrogate != 0) return "Unpaired surrogate in mailbox name";
  if (bits != 0) return "Non-zero padding bits in modified BASE64 of mailbox name";
  return std::nullopt;
}

void encode_run(const std::vector<char16_t>& units, std::string& out) {
  out += '&';
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char16_t unit : units) {
    bits = (bits << 16) | unit;
    bit_count += 16;
    while (bit_count >= 6) {
      bit_count -= 6;
      out += kModifiedBase64[(bits >> bit_count) & 0x3f];
    }
    bits &= (1u << bit_count) - 1;
  }
  if (bit_count > 0) out += kModifiedBase64[(bits << (6 - bit_count)) & 0x3f];
  out += '-';
}

}  // namespace

std::expected<std::string, std::string> decode_modified_utf7(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool after_run = false;  // the previous characters were an encoded run
  std::size_t pos = 0;
  while (pos < name.size()) {
    const char c = name[pos];
    if (!is_printable_ascii(static_cast<unsigned char>(c))) {
      return std::unexpected("Invalid character in mailbox name");
    }
    if (c != '&') {
      out += c;
      ++pos;
      after_run = false;
      continue;
    }
    const std::size_t end = name.find('-', pos + 1);
    if (end == std::string_view::npos) return std::unexpected("Unterminated & in mailbox name");
    if (end == pos + 1) {  // "&-" is "&"
      out += '&';
      pos = end + 1;
      after_run = false;
      continue;
    }
    if (after_run) return std::unexpected("Adjacent encoded runs in mailbox name");
    if (auto error = decode_run(name.substr(pos + 1, end - pos - 1), out)) {
      return std::unexpected(std::move(*error));
    }
    pos = end + 1;
    after_run = true;
  }
  return out;
}

std::expected<std::string, std::string> encode_modified_utf7(std::string_view utf8) {
  std::string out;
  std::vector<char16_t> run;  // UTF-16 units waiting to be encoded
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const auto c = next_code_point(utf8, pos);
    if (!c) return std::unexpected("Invalid UTF-8 in mailbox name");
    if (*c == 0) return std::unexpected("NUL in mailbox name");
    if (is_printable_ascii(*c)) {
      if (!run.empty()) {
        encode_run(run, out);
        run.clear();
      }
      out += static_cast<char>(*c);
      if (*c == '&') out += '-';
      continue;
    }
    if (*c >= 0x10000) {
      run.push_back(static_cast<char16_t>(0xd800 + ((*c - 0x10000) >> 10)));
      run.push_back(static_cast<char16_t>(0xdc00 + ((*c - 0x10000) & 0x3ff)));
    } else {
      run.push_back(static_cast<char16_t>(*c));
    }
  }
  if (!run.empty()) encode_run(run, out);
  return out;
}

bool needs_modified_utf7(std::string_view utf8) {
  for (char c : utf8) {
    if (c == '&' || !is_printable_ascii(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!next_code_point(text, pos)) return false;
  }
  return true;
}

}  // namespace postamt::proto::imap
