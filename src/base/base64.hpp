#pragma once
// Base64 (RFC 4648 §4) as SASL (RFC 4954 §4) and MIME use it.
#include <optional>
#include <string>
#include <string_view>

namespace postamt {

std::string base64_encode(std::string_view data);
// Strict: the standard alphabet, '=' padding to a multiple of four, no white space.
// nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace postamt
