#pragma once
// analyze_message: parses a stored message once and returns its MessageMetadata.
#include <string_view>

#include "mime/message_metadata.hpp"

namespace postamt::mime {

// `raw` is the message exactly as stored (CRLF line ends; bare LF is accepted as a best
// effort). Never throws and never fails: malformed input yields best-effort metadata whose
// offsets always satisfy the PartInfo invariants. Safe to call from many threads at once.
MessageMetadata analyze_message(std::string_view raw);

}  // namespace postamt::mime
