#pragma once
// Base64 content decoding (RFC 2045 §6.8).
#include <cstddef>
#include <string>
#include <string_view>

namespace postamt::mime {

// Decodes as RFC 2045 §6.8 tells decoders to: characters outside the base64 alphabet
// (line breaks, spaces, junk) are ignored, and "=" ends the data. A final group of 2 or 3
// characters without its padding still yields its 1 or 2 octets; a lone final character
// carries less than one octet and is dropped.
std::string decode_base64(std::string_view encoded);

// The length decode_base64() returns, without decoding.
std::size_t decoded_base64_size(std::string_view encoded);

}  // namespace postamt::mime
