#pragma once
// Shared by the session fuzz targets: decisions (accept or refuse, continue a literal,
// where to split the input) drawn from the fuzzer's own bytes, so a finding replays
// exactly. Cycles through the input; 0 when it is empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace postamt::fuzz {

[[noreturn]] inline void fail() { std::abort(); }

class Bits {
 public:
  Bits(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  unsigned take(unsigned modulo) {
    if (size_ == 0) return 0;
    const unsigned value = data_[pos_++ % size_];
    return value % modulo;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace postamt::fuzz
