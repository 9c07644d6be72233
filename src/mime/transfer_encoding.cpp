#include "mime/transfer_encoding.hpp"

#include <algorithm>
#include <cctype>

namespace postamt::mime {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

TransferEncoding parse_transfer_encoding(std::string_view token) {
  if (token.empty() || iequals(token, "7bit")) return TransferEncoding::seven_bit;
  if (iequals(token, "8bit")) return TransferEncoding::eight_bit;
  if (iequals(token, "binary")) return TransferEncoding::binary;
  if (iequals(token, "base64")) return TransferEncoding::base64;
  if (iequals(token, "quoted-printable")) return TransferEncoding::quoted_printable;
  return TransferEncoding::unknown;
}

bool is_identity_encoding(TransferEncoding encoding) {
  return encoding == TransferEncoding::seven_bit || encoding == TransferEncoding::eight_bit ||
         encoding == TransferEncoding::binary;
}

}  // namespace postamt::mime
