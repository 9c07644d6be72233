#pragma once
// The searchable text of a stored message: what SEARCH BODY / TEXT (RFC 9051 §6.4.4)
// look in, and what a full-text index will be fed. Everything is UTF-8 and bounded.
#include <cstddef>
#include <string>
#include <string_view>

#include "mime/message_metadata.hpp"

namespace postamt::imap {

// At most this much text is extracted from one message's body, or from its header.
inline constexpr std::size_t kMaxSearchableBodyText = 10 * 1024 * 1024;
inline constexpr std::size_t kMaxSearchableHeaderText = 1024 * 1024;

// The text of every text/* part (plain, html, enriched, ...; those inside attached
// message/rfc822 parts too), in part order, each followed by "\n": the transfer encoding
// undone (mime/decode_part_content.hpp), converted to UTF-8 from the part's charset. When
// the charset is unknown or the octets are not valid in it, the octets are taken as they
// are. Invalid UTF-8 becomes U+FFFD and NUL a space, so the result is valid UTF-8 without
// NUL. Headers are not included. Work and result are bounded by `max_bytes` (the text is
// cut at a character boundary).
std::string searchable_body_text(std::string_view content, const mime::MessageMetadata& metadata,
                                 std::size_t max_bytes = kMaxSearchableBodyText);

// The fields of the header at the start of `content` (reading stops at its empty line),
// one "Name: value" line each, unfolded, with RFC 2047 encoded words decoded (as
// unstructured text), as valid UTF-8, at most `max_bytes`.
std::string searchable_header_text(std::string_view content,
                                   std::size_t max_bytes = kMaxSearchableHeaderText);

// `text` as valid UTF-8 without NUL: invalid sequences become U+FFFD, NUL a space.
std::string valid_utf8_text(std::string_view text);

}  // namespace postamt::imap
