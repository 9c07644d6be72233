#pragma once
// UTF-8 validation for SMTPUTF8 (RFC 6531 §3.3, UTF-8 as defined by RFC 3629 §4).
#include <cstddef>
#include <string_view>

namespace postamt::proto::smtp {

// Length of the well-formed UTF-8 sequence at the start of text (1 for ASCII), or 0 when
// it is malformed: truncated, overlong, a surrogate, or above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace postamt::proto::smtp
