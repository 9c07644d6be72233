#pragma once
// The header of a message split once into its fields, as raw byte ranges of the input
// (nothing copied), in order, plus where the body starts. DKIM signing and verification
// (RFC 6376 §3.4, §5.4) and later DMARC and ARC read the fields from here.
//
// Lines may end in CRLF or a bare LF (files on disk); the ranges keep the bytes as they
// are. Bounded: at most `max_fields` fields and `max_head_size` octets are looked at.
#include <cstddef>
#include <string_view>
#include <vector>

namespace postamt::mailauth {

struct HeaderField {
  std::string_view name;   // the field name as written (no trailing WSP before the colon)
  std::string_view value;  // after the colon up to the field's last line end (excluded)
  std::string_view raw;    // the whole field, name to last line end (excluded)
};

struct MessageHeadLimits {
  std::size_t max_fields = 1000;
  std::size_t max_head_size = 1024 * 1024;
};

struct SplitHead {
  std::vector<HeaderField> fields;
  // Offset of the body: just after the empty line that ends the header; the input's
  // size when the header never ends (a header-only message has an empty body).
  std::size_t body_offset = 0;
  bool complete = false;      // an empty line ended the header
  bool over_limits = false;   // more fields or octets than the limits allow: not split further
  bool malformed = false;     // a line that is neither a field nor a continuation was seen
};

// `message`: the start of the message (at least its header).
SplitHead split_message_head(std::string_view message, MessageHeadLimits limits = {});

// Where the header ends in `bytes` (the offset of the body) if an empty line is in it.
// For callers that buffer a streamed message until its header is complete.
std::size_t find_body_offset(std::string_view bytes);  // std::string_view::npos if not yet

// ASCII case-insensitive comparison of field names.
bool field_name_equals(std::string_view a, std::string_view b);

}  // namespace postamt::mailauth
