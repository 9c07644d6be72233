#include "mime/transfer_encoding.hpp"

#include "mime/ascii_case.hpp"

namespace postamt::mime {

TransferEncoding parse_transfer_encoding(std::string_view token) {
  if (token.empty() || ascii_iequals(token, "7bit")) return TransferEncoding::seven_bit;
  if (ascii_iequals(token, "8bit")) return TransferEncoding::eight_bit;
  if (ascii_iequals(token, "binary")) return TransferEncoding::binary;
  if (ascii_iequals(token, "base64")) return TransferEncoding::base64;
  if (ascii_iequals(token, "quoted-printable")) return TransferEncoding::quoted_printable;
  return TransferEncoding::unknown;
}

bool is_identity_encoding(TransferEncoding encoding) {
  return encoding == TransferEncoding::seven_bit || encoding == TransferEncoding::eight_bit ||
         encoding == TransferEncoding::binary;
}

}  // namespace postamt::mime
