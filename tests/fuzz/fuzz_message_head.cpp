// Fuzzes smtp/message_head: what the SMTP session reads from the start of a client's
// message (Received count, From addresses, Message-ID) when its data ends. Checks:
//   * no crash, UB or leak, whatever the message holds;
//   * a head cut anywhere never shows more Received or From fields than the whole
//     message, and a cut head is complete only when it holds an empty line;
//   * every From address has an "@" (an address without a domain matches no account).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtp/message_head.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto whole = postamt::smtp::read_message_head(message, true);
  if (!whole.complete) fail();
  for (const auto& address : whole.from_addresses) {
    if (address.find('@') == std::string::npos) fail();
  }
  const std::size_t cut = message.empty() ? 0 : data[0] * message.size() / 256;
  const auto head = postamt::smtp::read_message_head(message.substr(0, cut), false);
  if (head.received_fields > whole.received_fields) fail();
  if (head.from_fields > whole.from_fields) fail();
  if (head.from_addresses.size() > whole.from_addresses.size()) fail();
  const std::string_view part = message.substr(0, cut);
  const bool has_empty_line = part.starts_with("\n") || part.starts_with("\r\n") ||
                              part.find("\n\n") != std::string_view::npos ||
                              part.find("\n\r\n") != std::string_view::npos;
  if (head.complete && !has_empty_line) fail();
  return 0;
}
