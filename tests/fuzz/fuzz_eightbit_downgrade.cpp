// Fuzzes the outbound content transformations: arbitrary bytes as a queued message.
// Checks what delivery relies on:
//  - downgrade_to_7bit never crashes; what it returns is 7-bit with no line over 998
//    octets, converts to itself again, and every leaf part decodes to the same content
//    as in the input (MimeScanner's reading of both);
//  - an eight_bit_header refusal agrees with find_8bit_use();
//  - quoted-printable encoding decodes back to its input, in lines of at most 76;
//  - a delivery status report returning the input is 7-bit CRLF text with no line over
//    998 octets, whatever the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mime/analyze_message.hpp"
#include "mime/decode_part_content.hpp"
#include "mime/delivery_status_report.hpp"
#include "mime/eightbit_downgrade.hpp"
#include "mime/quoted_printable_decoder.hpp"
#include "mime/transfer_encoders.hpp"

namespace {

using namespace postamt::mime;

void check(bool condition) {
  if (!condition) std::abort();
}

std::size_t longest_line(std::string_view s) {
  std::size_t longest = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      std::size_t length = i - start;
      if (length > 0 && s[i - 1] == '\r') --length;
      if (length > longest) longest = length;
      start = i + 1;
    }
  }
  return longest;
}

bool all_7bit(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> leaves(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const PartInfo& p : analyze_message(raw).parts) {
    if (p.section.empty() || p.type == "multipart" || p.is_message) continue;
    auto content = decode_part_content(raw, p);
    out.emplace_back(p.section + " " + p.type + "/" + p.subtype, content ? *content : "?");
  }
  return out;
}

void check_downgrade(std::string_view message) {
  DowngradeLimits limits;
  limits.max_output_size = 64 * 1024;
  const auto converted = downgrade_to_7bit(message, limits);
  if (!converted) {
    if (converted.error().kind == DowngradeError::Kind::eight_bit_header) {
      check(find_8bit_use(message).in_headers);
    }
    check(!converted.error().detail.empty());
    return;
  }
  check(converted->size() <= limits.max_output_size);
  check(all_7bit(*converted));
  check(longest_line(*converted) <= 998);
  const auto again = downgrade_to_7bit(*converted, limits);
  check(again.has_value() && *again == *converted);
  check(leaves(*converted) == leaves(message));
}

void check_quoted_printable(std::string_view data) {
  const std::string encoded = encode_quoted_printable(data);
  check(all_7bit(encoded));
  check(longest_line(encoded) <= kMaxEncodedLineLength);
  check(decode_quoted_printable(encoded) == data);
}

void check_report(std::string_view message, std::uint8_t choice) {
  DsnReport report;
  report.reporting_mta = "mail.example.org";
  report.original_sender = "sender@example.org";
  report.original_message = message;
  report.ret = static_cast<DsnReturn>(choice % 3);
  report.max_returned_size = (choice & 4) ? 2048 : 64 * 1024;
  report.unique_token = "fuzz";
  DsnRecipient recipient;
  recipient.final_recipient = std::string(message.substr(0, 40));
  recipient.diagnostic = std::string(message.substr(0, 600));
  recipient.action = (choice & 8) ? DsnAction::failed : DsnAction::delayed;
  report.recipients.push_back(recipient);
  const std::string dsn = build_delivery_status_report(report);
  check(all_7bit(dsn));
  check(longest_line(dsn) <= 998);
  for (std::size_t i = 0; i < dsn.size(); ++i) {
    if (dsn[i] == '\n') check(i > 0 && dsn[i - 1] == '\r');
    if (dsn[i] == '\r') check(i + 1 < dsn.size() && dsn[i + 1] == '\n');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  check(needs_8bitmime(message) == !all_7bit(message));
  const EightBitUse use = find_8bit_use(message);
  check((use.in_headers || use.in_bodies) == needs_8bitmime(message));
  check_downgrade(message);
  check_quoted_printable(message);
  check_report(message, size > 0 ? data[0] : 0);
  return 0;
}
