#pragma once
// PARTIAL (RFC 9394, extending RFC 5267 §4.4): a window of a SEARCH, SORT or FETCH result
// by position — "1:100" the first hundred, "-1:-100" the last hundred (-1 is the last).
//
//   partial-range-first = nz-number ":" nz-number          ; 500:400 is 400:500
//   partial-range-last  = "-" nz-number ":" "-" nz-number  ; -500:-400 is -400:-500
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace postamt::proto::imap {

struct PartialRange {
  bool from_end = false;    // negative positions, counted back from the last
  std::uint32_t first = 1;  // first <= last, both ≥ 1 (magnitudes when from_end)
  std::uint32_t last = 1;
  bool operator==(const PartialRange&) const = default;
};

std::expected<PartialRange, std::string> parse_partial_range(std::string_view text);

// The range as it goes back in the response: "1:100", "-1:-100".
std::string partial_range_text(const PartialRange& range);

// The window [begin, end) of a result of `size` entries in its order; empty (begin == end)
// when the range lies past the result.
std::pair<std::size_t, std::size_t> partial_window(const PartialRange& range, std::size_t size);

}  // namespace postamt::proto::imap
