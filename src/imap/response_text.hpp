#pragma once
// Small pieces of IMAP response syntax (RFC 9051 §9) the session writes.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace postamt::imap {

// A string as `quoted` when it can be (no CR, LF or NUL; 8-bit only when the client
// accepts UTF-8, RFC 9051 §9 / RFC 6855), else as a literal.
void append_string(std::string& out, std::string_view text, bool utf8_allowed);

// "1:3,7,9:10" for sorted, unique numbers (the uid-sets of COPYUID, VANISHED, ESEARCH ALL;
// COPYUID's two sets both ascend, so they still correspond pairwise, RFC 4315 §3).
std::string compact_set(std::span<const std::uint32_t> sorted_numbers);

}  // namespace postamt::imap
