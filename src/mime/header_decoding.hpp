#pragma once
// Header decoding on GMime: RFC 2047 encoded words, dates and charset conversion. This
// is the only file that includes GMime; its functions are thread-safe and never throw
// for bad input.
//
// GMime's own address-list parser is not used: it recurses once per group, so a header
// of 40,000 "g:" overflows the stack (found while testing hostile input). Addresses are
// split by address_list.cpp, and only display names are handed to GMime for decoding.
// Input to GMime is also capped (kMaxDecodedInput) so its cost stays bounded whatever it
// does internally; these values only feed SEARCH and SORT.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mime {

// Header text beyond this many octets is not decoded (the rest is dropped).
inline constexpr std::size_t kMaxDecodedInput = 64 * 1024;

// Unstructured text (Subject) with RFC 2047 encoded words decoded, as valid UTF-8.
std::string decode_header_text(std::string_view raw_value);

// A display name (phrase) with RFC 2047 encoded words decoded (RFC 2047 §5 (3)), as valid
// UTF-8.
std::string decode_phrase(std::string_view phrase);

// A Date: value (RFC 5322 §3.3, obsolete forms included) as Unix time, if it parses.
std::optional<std::int64_t> parse_date(std::string_view raw_value);

// `bytes` converted from `charset` to UTF-8, or nothing when the charset is unknown or the
// bytes are not valid in it.
std::optional<std::string> charset_to_utf8(std::string_view bytes, std::string_view charset);

}  // namespace postamt::mime
