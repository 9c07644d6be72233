#include "proto/imap/sequence_set.hpp"

#include <algorithm>
#include <utility>

namespace postamt::proto::imap {
namespace {

// seq-number = nz-number / "*" (RFC 9051 §9); nz-number = digit-nz *DIGIT, a number32.
std::expected<std::uint32_t, std::string> parse_number(std::string_view text) {
  if (text == "*") return SequenceSet::kStar;
  if (text.empty()) return std::unexpected("Empty number in sequence set");
  if (text.front() == '0') return std::unexpected("Sequence numbers start at 1");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::unexpected("Invalid character in sequence set");
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 0xFFFFFFFFu) return std::unexpected("Sequence number too large");
  }
  return static_cast<std::uint32_t>(value);
}

std::uint32_t resolve_number(std::uint32_t n, std::uint32_t max) {
  return n == SequenceSet::kStar ? max : n;
}

}  // namespace

std::expected<SequenceSet, std::string> SequenceSet::parse(std::string_view text) {
  SequenceSet set;
  if (text == "$") {  // seq-last-command, RFC 5182 §2.1 / RFC 9051 §9
    set.saved_result_ = true;
    return set;
  }
  if (text.empty()) return std::unexpected("Empty sequence set");
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view element = text.substr(0, comma);
    const std::size_t colon = element.find(':');
    Range range;
    auto first = parse_number(element.substr(0, colon));
    if (!first) return std::unexpected(std::move(first.error()));
    range.first = range.last = *first;
    if (colon != std::string_view::npos) {
      auto last = parse_number(element.substr(colon + 1));
      if (!last) return std::unexpected(std::move(last.error()));
      range.last = *last;
    }
    set.ranges_.push_back(range);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return set;
}

bool SequenceSet::contains(std::uint32_t n, std::uint32_t max) const {
  if (n == 0 || max == 0 || n > max) return false;
  for (const Range& range : ranges_) {
    const std::uint32_t a = resolve_number(range.first, max);
    const std::uint32_t b = resolve_number(range.last, max);
    if (n >= std::min(a, b) && n <= std::max(a, b)) return true;
  }
  return false;
}

std::vector<SequenceSet::Resolved> SequenceSet::resolve(std::uint32_t max) const {
  std::vector<Resolved> out;
  if (max == 0) return out;
  for (const Range& range : ranges_) {
    const std::uint32_t a = resolve_number(range.first, max);
    const std::uint32_t b = resolve_number(range.last, max);
    const std::uint32_t low = std::min(a, b);
    if (low > max) continue;
    out.push_back({low, std::min(std::max(a, b), max)});
  }
  return out;
}

}  // namespace postamt::proto::imap
