#include "proto/imap/literal_marker.hpp"

#include <limits>

namespace postamt::proto::imap {

std::optional<LiteralMarker> find_literal_marker(std::string_view line) {
  // literal = "{" number64 ["+"] "}" CRLF *CHAR8 (RFC 9051 §9, RFC 7888 §8)
  if (line.empty() || line.back() != '}') return std::nullopt;
  std::size_t end = line.size() - 1;  // index of '}'
  LiteralMarker marker;
  if (end > 0 && line[end - 1] == '+') {
    marker.synchronizing = false;
    --end;
  }
  std::size_t begin = end;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9') --begin;
  if (begin == end || begin == 0 || line[begin - 1] != '{') return std::nullopt;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const unsigned digit = static_cast<unsigned>(line[i] - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  marker.size = value;
  std::size_t open = begin - 1;
  if (open > 0 && line[open - 1] == '~') {  // literal8, RFC 3516 §4.2
    marker.binary = true;
    --open;
  }
  marker.marker_length = line.size() - open;
  return marker;
}

}  // namespace postamt::proto::imap
