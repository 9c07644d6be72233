#pragma once
// DNS records written as master-file lines (RFC 1035 §5.1) for the operator to publish:
// `name TTL IN TXT "…" "…"`. A TXT value longer than 255 octets is split into several
// character-strings (RFC 1035 §3.3.14), which receivers join again (RFC 6376 §3.6.2.2,
// RFC 7208 §3.3). Pure.
#include <cstdint>
#include <string>
#include <string_view>

namespace postamt::mailauth {

inline constexpr std::size_t kTxtStringMax = 255;

// `name` is written fully qualified (a trailing dot added); `"` and `\` are escaped.
std::string zone_txt_line(std::string_view name, std::uint32_t ttl, std::string_view value);
std::string zone_mx_line(std::string_view name, std::uint32_t ttl, unsigned preference, std::string_view exchange);

}  // namespace postamt::mailauth
