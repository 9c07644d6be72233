#pragma once
// RFC 6152 §3: before 8-bit content goes to a server without 8BITMIME, it is converted to
// 7 bit (quoted-printable/base64 parts) or the message is returned.
#include <expected>
#include <string>
#include <string_view>

namespace postamt::queue {

// The converted message, or why it cannot be converted.
std::expected<std::string, std::string> convert_to_seven_bit(std::string_view content);

}  // namespace postamt::queue
