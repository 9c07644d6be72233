// Fuzzes the bounded line splitter: arbitrary bytes in arbitrary pieces, with takes and
// discards mixed in. Checks the invariants every protocol relies on: no line over the
// limit is ever returned, and buffered bytes stay bounded by the limit plus one piece.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/line_buffer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = 8 + data[0] % 120;
  postamt::proto::LineBuffer buffer(limit);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    // The first byte of each step picks the piece length and an action.
    const auto control = static_cast<unsigned char>(rest.front());
    rest.remove_prefix(1);
    const std::size_t piece = std::min<std::size_t>(rest.size(), 1 + control % 64);
    buffer.feed(rest.substr(0, piece));
    rest.remove_prefix(piece);
    if (buffer.buffered() > limit + piece) std::abort();
    while (auto line = buffer.next_line()) {
      if (*line && (*line)->text.size() + 1 > limit) std::abort();
    }
    if (control % 17 == 0) buffer.take(control % 9);
    if (control % 31 == 0) buffer.discard_buffered();
  }
  return 0;
}
