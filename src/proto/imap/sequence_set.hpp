#pragma once
// SequenceSet: an IMAP sequence-set (RFC 9051 §9 "sequence-set", §6.4.4.1 / RFC 5182 "$").
//
//   sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"
//   seq-number   = nz-number / "*"          nz-number = 1..4294967295
//   seq-range    = seq-number ":" seq-number   (either order: 4:2 is 2:4)
//
// "*" means the largest number in use, so it is kept symbolic and resolved against `max`
// when the set is used. Nothing is ever expanded into individual numbers: a set costs one
// Range per element the client wrote, whatever the numbers are.
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::proto::imap {

class SequenceSet {
 public:
  static constexpr std::uint32_t kStar = 0;  // "*" (0 is never a valid nz-number)

  struct Range {
    std::uint32_t first = 0;  // as written; kStar for "*"
    std::uint32_t last = 0;   // equal to first for a single number
  };

  struct Resolved {
    std::uint32_t low = 0;
    std::uint32_t high = 0;  // low <= high
  };

  // Parses the whole text; the error is a reason for "tag BAD <reason>".
  static std::expected<SequenceSet, std::string> parse(std::string_view text);

  // "$": the saved search result (RFC 5182 §2.1); it has no ranges of its own.
  bool is_saved_result() const { return saved_result_; }
  const std::vector<Range>& ranges() const { return ranges_; }

  // Whether n (1-based) is in the set when the largest number in use is max ("*" = max;
  // RFC 9051 §6.4.4.1 "*" with an empty mailbox: nothing matches). A saved-result set
  // holds nothing here: the caller substitutes the saved result.
  bool contains(std::uint32_t n, std::uint32_t max) const;

  // Each element with "*" replaced by max and its ends ordered, clipped to 1..max; elements
  // wholly above max are left out. Neither sorted nor merged: cost follows the input.
  std::vector<Resolved> resolve(std::uint32_t max) const;

 private:
  std::vector<Range> ranges_;
  bool saved_result_ = false;
};

}  // namespace postamt::proto::imap
