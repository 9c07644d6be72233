#pragma once
// Quoted-printable content decoding (RFC 2045 §6.7).
#include <string>
#include <string_view>

namespace postamt::mime {

// Decodes line by line per RFC 2045 §6.7:
//  - "=XX" becomes the octet XX; lower-case hex digits are accepted too (§6.7 (1) note);
//  - white space at the end of a line is transport padding and is removed (rule 3);
//  - a line ending in "=" (after that removal) is a soft line break: the "=" and the line
//    break disappear (rule 5);
//  - any other line break is kept as it is stored (CRLF, or LF for bare-LF input);
//  - an "=" not followed by two hex digits or a line break is kept literally, as the
//    note in §6.7 suggests for robust decoders.
std::string decode_quoted_printable(std::string_view encoded);

}  // namespace postamt::mime
