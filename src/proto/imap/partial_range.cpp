#include "proto/imap/partial_range.hpp"

#include <algorithm>
#include <charconv>

namespace postamt::proto::imap {
namespace {

// nz-number (RFC 9051 §9): 1..4294967295, digits only, no leading zero.
std::expected<std::uint32_t, std::string> nz_number(std::string_view text) {
  std::uint32_t value = 0;
  if (text.empty() || text.front() == '0' ||
      !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::unexpected("PARTIAL: expected a non-zero number, got '" + std::string(text.substr(0, 20)) + "'");
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::unexpected("PARTIAL: number out of range");
  }
  return value;
}

}  // namespace

std::expected<PartialRange, std::string> parse_partial_range(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::unexpected("PARTIAL: expected a range such as 1:100 or -1:-100");
  std::string_view low = text.substr(0, colon);
  std::string_view high = text.substr(colon + 1);
  const bool low_negative = low.starts_with('-');
  const bool high_negative = high.starts_with('-');
  if (low_negative != high_negative) {
    return std::unexpected("PARTIAL: both ends of the range must count from the same end");
  }
  if (low_negative) {
    low.remove_prefix(1);
    high.remove_prefix(1);
  }
  auto a = nz_number(low);
  if (!a) return std::unexpected(a.error());
  auto b = nz_number(high);
  if (!b) return std::unexpected(b.error());
  return PartialRange{low_negative, std::min(*a, *b), std::max(*a, *b)};
}

std::string partial_range_text(const PartialRange& range) {
  const std::string sign = range.from_end ? "-" : "";
  return sign + std::to_string(range.first) + ":" + sign + std::to_string(range.last);
}

std::pair<std::size_t, std::size_t> partial_window(const PartialRange& range, std::size_t size) {
  if (range.first > size) return {size, size};
  const std::size_t count = std::min<std::size_t>(range.last, size) - range.first + 1;
  if (!range.from_end) return {range.first - 1, range.first - 1 + count};
  // From the end: position -first is index size - first, the window reaches back `count`.
  const std::size_t end = size - range.first + 1;
  return {end - count, end};
}

}  // namespace postamt::proto::imap
