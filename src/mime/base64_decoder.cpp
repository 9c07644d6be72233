#include "mime/base64_decoder.hpp"

#include <array>
#include <cstdint>

namespace postamt::mime {

namespace {

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr std::array<std::int8_t, 256> kTable = make_table();

// Number of alphabet characters before the first "=".
std::size_t significant_characters(std::string_view encoded) {
  std::size_t count = 0;
  for (char c : encoded) {
    if (c == '=') break;
    if (kTable[static_cast<unsigned char>(c)] >= 0) ++count;
  }
  return count;
}

}  // namespace

std::string decode_base64(std::string_view encoded) {
  std::string out;
  out.reserve(decoded_base64_size(encoded));
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : encoded) {
    if (c == '=') break;
    const std::int8_t value = kTable[static_cast<unsigned char>(c)];
    if (value < 0) continue;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    if (++count == 4) {
      out.push_back(static_cast<char>((bits >> 16) & 0xff));
      out.push_back(static_cast<char>((bits >> 8) & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out.push_back(static_cast<char>((bits >> 4) & 0xff));
  } else if (count == 3) {
    out.push_back(static_cast<char>((bits >> 10) & 0xff));
    out.push_back(static_cast<char>((bits >> 2) & 0xff));
  }
  return out;
}

std::size_t decoded_base64_size(std::string_view encoded) {
  const std::size_t n = significant_characters(encoded);
  const std::size_t rest = n % 4;
  return n / 4 * 3 + (rest >= 2 ? rest - 1 : 0);
}

}  // namespace postamt::mime
