#pragma once
// Syntax of the base64 lines an AUTH exchange carries (RFC 4954 §4). The engine only
// checks the alphabet; decoding and the mechanism itself belong to proto/sasl.
#include <string_view>

namespace postamt::proto::smtp {

// True for base64 (RFC 4648 §4 alphabet, at most two '=' and only at the end). An empty
// line is a valid, empty response.
bool is_base64_line(std::string_view line);

}  // namespace postamt::proto::smtp
