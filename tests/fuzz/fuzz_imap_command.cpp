// Fuzzes IMAP command framing and tokenizing: arbitrary bytes arrive in arbitrary pieces
// through the CommandReader, every continuation request is answered (continue or reject)
// by bits taken from the input, and every framed command goes through the tokenizer and,
// for each atom argument, the sequence-set parser. Checks what the driver relies on:
//   * no crash, UB or leak (ASan/UBSan), whatever the peer sends;
//   * buffered input stays within the line limit plus one piece, and a command in memory
//     within its size limit;
//   * every literal delivered holds exactly the octets announced (the line piece before it
//     ended in the marker the reader reported);
//   * NeedContinuation only for announced sizes within the limit; nothing after a fatal error;
//   * a parsed sequence set resolves to ranges within 1..max, as many as it has elements.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/imap/command_reader.hpp"
#include "proto/imap/sequence_set.hpp"
#include "proto/imap/tokenizer.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::imap;

using postamt::fuzz::Bits;
using postamt::fuzz::fail;

void check_sequence_sets(const Value& value, unsigned max) {
  if (value.kind == Value::Kind::list) {
    for (const Value& item : value.items) check_sequence_sets(item, max);
    return;
  }
  if (value.kind != Value::Kind::atom) return;
  auto set = SequenceSet::parse(value.text);
  if (!set) return;
  const auto ranges = set->resolve(max);
  if (ranges.size() > set->ranges().size()) fail();
  for (const auto& r : ranges) {
    if (r.low < 1 || r.low > r.high || r.high > max) fail();
    if (!set->contains(r.low, max) || !set->contains(r.high, max)) fail();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ReaderLimits limits;
  const unsigned flags = data[0];
  limits.max_line_length = 16 + data[1] * 4u;
  limits.max_literal_size = (flags & 1) ? 64 : 4096;
  limits.max_literals = 1 + (flags >> 1) % 8;
  limits.max_command_size = (flags & 16) ? 256 : 1u << 20;
  limits.literal_minus = flags & 32;
  TokenizerLimits tokenizer_limits;
  tokenizer_limits.max_depth = 1 + (flags >> 6) * 8;
  Bits bits(data, size);

  CommandReader reader(limits);
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  bool closed = false;
  std::vector<std::uint64_t> announced;  // sync literal sizes of the current command

  auto drain = [&] {
    while (auto event = reader.next_event()) {
      if (closed) fail();
      if (auto* command = std::get_if<Command>(&*event)) {
        if (command->lines.size() != command->literals.size() + 1) fail();
        if (command->literals.size() > limits.max_literals) fail();
        std::uint64_t total = 0;
        for (const auto& line : command->lines) total += line.size() + 2;
        for (const auto& literal : command->literals) {
          if (literal.data.size() > limits.max_literal_size) fail();
          total += literal.data.size();
        }
        if (total > limits.max_command_size + 16 * command->literals.size()) fail();
        std::size_t next = 0;
        for (const auto& literal : command->literals) {
          if (!literal.synchronizing) continue;
          if (next >= announced.size() || literal.data.size() != announced[next++]) fail();
        }
        if (next != announced.size()) fail();
        announced.clear();
        auto parsed = bits.take(2) ? tokenize(*command, tokenizer_limits)
                                   : tokenize(Command(*command), tokenizer_limits);
        if (parsed) {
          if (!is_valid_tag(parsed->tag)) fail();
          for (const Value& value : parsed->arguments) check_sequence_sets(value, bits.take(64));
        }
      } else if (auto* need = std::get_if<NeedContinuation>(&*event)) {
        if (!reader.awaiting_continuation()) fail();
        if (need->size > limits.max_literal_size) fail();
        if (bits.take(4) == 0) {
          reader.reject_literal();
          announced.clear();
        } else {
          reader.continue_literal();
          announced.push_back(need->size);
        }
      } else {
        const auto& error = std::get<ReaderError>(*event);
        if (error.reason().empty()) fail();
        announced.clear();
        if (error.fatal) {
          if (!reader.closed()) fail();
          closed = true;
        }
      }
    }
  };

  while (!rest.empty() && !closed) {
    const unsigned control = static_cast<unsigned char>(rest.front());
    rest.remove_prefix(1);
    const std::size_t piece = std::min<std::size_t>(rest.size(), 1 + control % 200);
    reader.receive(rest.substr(0, piece));
    rest.remove_prefix(piece);
    drain();
    if (reader.buffered_input() > limits.max_line_length + piece) fail();
    if (reader.command_bytes() > limits.max_command_size) fail();
  }
  return 0;
}
