#pragma once
// xtext (RFC 3461 §4): the encoding of the DSN ENVID and ORCPT values and of the AUTH=
// parameter of MAIL (RFC 4954 §5).
//   xtext   = *( xchar / hexchar )
//   xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except "+" and "="
//   hexchar = "+" followed by two upper-case hexadecimal digits
#include <optional>
#include <string>
#include <string_view>

namespace postamt::proto::smtp {

// The decoded octets, or nothing when text is not valid xtext. Lower-case hex digits are
// accepted too (be liberal in what you accept); everything else is refused.
std::optional<std::string> decode_xtext(std::string_view text);

// Encodes arbitrary octets as xtext (upper-case hex), for the SMTP client side.
std::string encode_xtext(std::string_view octets);

}  // namespace postamt::proto::smtp
