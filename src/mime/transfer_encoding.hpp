#pragma once
// TransferEncoding: the Content-Transfer-Encoding of a MIME part (RFC 2045 §6.1).
#include <cstdint>
#include <string_view>

namespace postamt::mime {

enum class TransferEncoding : std::uint8_t {
  seven_bit,         // "7bit", also the default when the field is absent (RFC 2045 §6.1)
  eight_bit,         // "8bit"
  binary,            // "binary"
  base64,            // RFC 2045 §6.8
  quoted_printable,  // RFC 2045 §6.7
  unknown,  // any other token (x-uuencode, ...): BINARY answers [UNKNOWN-CTE] (RFC 3516 §4.3)
};

// Classifies a Content-Transfer-Encoding token, case-insensitively (RFC 2045 §6.1).
TransferEncoding parse_transfer_encoding(std::string_view token);

// True for the encodings whose content is the body octets as stored (7bit, 8bit, binary).
bool is_identity_encoding(TransferEncoding encoding);

}  // namespace postamt::mime
