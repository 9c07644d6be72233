#include "mime/header_decoding.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "mime/ascii_case.hpp"
#include "mime/header_fields.hpp"

namespace postamt::mime {

namespace {

// g_mime_init() is not thread-safe; every entry point calls this first.
void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct GFree {
  void operator()(char* p) const { g_free(p); }
};
using GString = std::unique_ptr<char, GFree>;

// GMime reads C strings; a NUL inside a header would cut it short anyway.
std::string c_string(std::string_view s) {
  std::string out(s.substr(0, kMaxDecodedInput));
  std::replace(out.begin(), out.end(), '\0', ' ');
  return out;
}

std::string valid_utf8(const char* s) {
  if (s == nullptr) return {};
  if (g_utf8_validate(s, -1, nullptr)) return s;
  const GString fixed(g_utf8_make_valid(s, -1));
  return fixed.get();
}

}  // namespace

std::string decode_header_text(std::string_view raw_value) {
  ensure_gmime();
  const std::string text =
      c_string(trim_white_space(unfold(raw_value.substr(0, kMaxDecodedInput))));
  const GString decoded(g_mime_utils_header_decode_text(nullptr, text.c_str()));
  return valid_utf8(decoded.get());
}

std::string decode_phrase(std::string_view phrase) {
  ensure_gmime();
  const std::string text = c_string(phrase);
  const GString decoded(g_mime_utils_header_decode_phrase(nullptr, text.c_str()));
  return valid_utf8(decoded.get());
}

std::optional<std::int64_t> parse_date(std::string_view raw_value) {
  ensure_gmime();
  const std::string text = c_string(unfold(raw_value.substr(0, 1024)));
  GDateTime* date = g_mime_utils_header_decode_date(text.c_str());
  if (date == nullptr) return std::nullopt;
  const std::int64_t unix_time = g_date_time_to_unix(date);
  g_date_time_unref(date);
  return unix_time;
}

std::optional<std::string> charset_to_utf8(std::string_view bytes, std::string_view charset) {
  if (charset.empty() || ascii_iequals(charset, "utf-8") || ascii_iequals(charset, "utf8") ||
      ascii_iequals(charset, "us-ascii")) {
    if (!g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr) ||
        bytes.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    return std::string(bytes);
  }
  ensure_gmime();
  const std::string from(charset);
  iconv_t cd = g_mime_iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  const GString converted(g_mime_iconv_strndup(cd, bytes.data(), bytes.size()));
  g_mime_iconv_close(cd);
  if (!converted || !g_utf8_validate(converted.get(), -1, nullptr)) return std::nullopt;
  return std::string(converted.get());
}

}  // namespace postamt::mime
