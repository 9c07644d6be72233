#pragma once
// Content decoding for FETCH BINARY[section] and BINARY.SIZE[section] (RFC 3516).
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "mime/part_info.hpp"

namespace postamt::mime {

// The error of a part whose Content-Transfer-Encoding is not one RFC 2045 defines: the
// IMAP server answers NO [UNKNOWN-CTE] (RFC 3516 §4.3). Any other error means the PartInfo
// does not fit the message (a storage inconsistency).
inline constexpr std::string_view kUnknownTransferEncoding = "unknown content-transfer-encoding";

// The part's body [header_end, body_end) with its Content-Transfer-Encoding undone:
// base64 (RFC 2045 §6.8) and quoted-printable (RFC 2045 §6.7) are decoded leniently, as
// RFC 2045 asks of decoders; 7bit, 8bit and binary bodies are returned as stored.
std::expected<std::string, std::string> decode_part_content(std::string_view raw,
                                                            const PartInfo& part);

// The size decode_part_content() would return (BINARY.SIZE), without keeping the content.
std::expected<std::size_t, std::string> binary_size(std::string_view raw, const PartInfo& part);

}  // namespace postamt::mime
