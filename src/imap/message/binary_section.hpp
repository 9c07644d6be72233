#pragma once
// BINARY[<part>] and BINARY.SIZE[<part>] (RFC 3516 §4.2, RFC 9051 §6.4.5): a section's
// content with its Content-Transfer-Encoding undone (mime/decode_part_content.hpp).
#include <cstddef>
#include <expected>
#include <optional>
#include <string_view>

#include "imap/message/body_section.hpp"
#include "mime/message_metadata.hpp"
#include "proto/imap/commands.hpp"

namespace postamt::imap {

// The part's transfer encoding is none RFC 2045 defines: NO [UNKNOWN-CTE] (RFC 3516 §4.3).
struct UnknownTransferEncoding {};

// What BINARY[<part>] answers, before <partial>:
//   []                         the whole message as stored (it has no encoding of its own)
//   a leaf part                its body, base64 / quoted-printable decoded; 7bit, 8bit and
//                              binary bodies as stored
//   a multipart or message/rfc822 part   its body as stored: RFC 2046 §5 allows only the
//                              identity encodings 7bit/8bit/binary on composite types, so
//                              there is nothing to decode (the parts inside keep theirs)
// Nothing when the message has no such part or the section names HEADER/TEXT/MIME, which
// section-binary cannot (RFC 3516 §4.2 "section-binary").
std::expected<std::optional<SectionBytes>, UnknownTransferEncoding> binary_section_bytes(
    std::string_view content, const mime::MessageMetadata* metadata,
    const proto::imap::Section& section);

// The size of binary_section_bytes() without keeping the decoded content (BINARY.SIZE).
std::expected<std::optional<std::size_t>, UnknownTransferEncoding> binary_section_size(
    std::string_view content, const mime::MessageMetadata* metadata,
    const proto::imap::Section& section);

}  // namespace postamt::imap
