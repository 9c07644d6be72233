#pragma once
// Splits a message's header block into its fields, keeping each field's exact bytes and
// offset, so callers can read a field (From, Authentication-Results) and remove one
// without touching the others' bytes (which DKIM signatures cover).
#include <cstddef>
#include <string_view>
#include <vector>

namespace postamt::mailauth {

struct RawHeaderField {
  std::string_view name;   // as written, without trailing whitespace before ':'
  std::string_view value;  // everything after ':', folding kept, line ending dropped
  std::size_t offset = 0;  // of the field's first byte in the block
  std::size_t length = 0;  // the whole field including its line ending(s)
};

// The header block ends at the first empty line (or the input's end). A line that starts
// with WSP continues the previous field (RFC 5322 §2.2.3). Lines end in CRLF or a bare LF.
// A line without ':' (not a field) is returned with an empty name, so callers can see it.
std::vector<RawHeaderField> split_header_fields(std::string_view header_block);

bool header_name_equals(std::string_view name, std::string_view expected);  // ASCII case-insensitive

}  // namespace postamt::mailauth
