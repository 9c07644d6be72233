#pragma once
// Content-Transfer-Encoding encoders (RFC 2045 §6.7, §6.8) for content that has to travel
// as 7-bit data: outbound 8BITMIME downgrade (RFC 6152 §3) and returned messages in
// delivery status reports. The decoders live in quoted_printable_decoder / base64_decoder.
#include <cstddef>
#include <string>
#include <string_view>

namespace postamt::mime {

// RFC 2045 §6.7: encoded lines are at most 76 characters, the "=" of a soft line break
// included.
inline constexpr std::size_t kMaxEncodedLineLength = 76;

// Quoted-printable for text: every CRLF of `data` stays a hard line break (rule 4); any
// other CR or LF is an octet like any other and is encoded (=0D, =0A), so decoding gives
// back exactly `data`. Encoded are: "=", octets outside 33..126 except SP and HTAB
// inside a line (rules 1-3), SP and HTAB at the end of a line (rule 3), and a "-" that
// would begin an encoded line, so no encoded line can ever look like a multipart
// delimiter ("--boundary", RFC 2046 §5.1.1) whatever the soft line breaks split.
// Output lines end in CRLF; the output ends in CRLF exactly when `data` does.
std::string encode_quoted_printable(std::string_view data);

// Base64 (RFC 2045 §6.8) in lines of 76 characters separated by CRLF; no line break
// after the last line.
std::string encode_base64_lines(std::string_view data);

}  // namespace postamt::mime
