#include "queue/notice_report.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <random>

#include "mime/delivery_status_report.hpp"
#include "queue/delivery_notices.hpp"

namespace postamt::queue {
namespace {

// Unique per report across processes and restarts: a random prefix chosen once, a
// counter, the queue id and the time.
std::string unique_token(storage::Id queue_id, storage::UnixTime now) {
  static const std::uint64_t process_random = [] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<std::uint64_t> counter{0};
  char prefix[17];
  std::snprintf(prefix, sizeof prefix, "%016llx", static_cast<unsigned long long>(process_random));
  return std::string(prefix) + "." + std::to_string(counter.fetch_add(1)) + "." + std::to_string(queue_id) + "." +
         std::to_string(now);
}

// xtext (RFC 3461 §4): "+" and two upper-case hex digits stand for one octet.
std::string xtext_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size()) {
      unsigned value = 0;
      if (std::sscanf(std::string(text.substr(i + 1, 2)).c_str(), "%2X", &value) == 1) {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

bool same_address(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

mime::DsnReturn return_of(std::string_view ret) {
  if (ret == "FULL") return mime::DsnReturn::full;
  if (ret == "HDRS") return mime::DsnReturn::headers;
  return mime::DsnReturn::unspecified;
}

}  // namespace

bool arrived_through_forwarding(const storage::QueueRecipient& recipient) {
  // The message preparer gives every address an alias expanded to an ORCPT naming the
  // address the client wrote (RFC 3461 §4.2), unless the client gave its own: either way
  // it names another address than the one queued. Another MTA's ORCPT for a message
  // relayed here unchanged names the same address, or is absent.
  const auto semicolon = recipient.orcpt.find(';');
  if (semicolon == std::string::npos) return false;
  return !same_address(xtext_decoded(std::string_view(recipient.orcpt).substr(semicolon + 1)), recipient.address);
}

std::string compose_notice(const NoticeInput& input) {
  mime::DsnReport report;
  report.reporting_mta = std::string(input.hostname);
  report.envid = input.message.envid;
  if (input.message.created_at != 0) report.arrival_date = input.message.created_at;
  report.original_sender = input.message.sender;
  report.ret = return_of(input.message.ret);
  report.original_message = input.original;
  report.max_returned_size = static_cast<std::size_t>(input.max_returned_size);
  report.headers_only_forwarded = std::ranges::any_of(
      input.entries, [](const NoticeEntry& entry) { return arrived_through_forwarding(entry.recipient); });
  report.now = input.now;
  report.unique_token = unique_token(input.message.id, input.now);
  for (const NoticeEntry& entry : input.entries) {
    mime::DsnRecipient recipient;
    recipient.final_recipient = entry.recipient.address;
    recipient.original_recipient = entry.recipient.orcpt;
    recipient.action = entry.action == NoticeAction::relayed ? mime::DsnAction::relayed : mime::DsnAction::failed;
    recipient.status = mime::is_valid_dsn_status(entry.outcome.status) ? entry.outcome.status
                       : entry.action == NoticeAction::relayed      ? "2.0.0"
                                                                    : "5.0.0";
    recipient.remote_mta = entry.outcome.remote_host;
    recipient.diagnostic = entry.outcome.diagnostic;
    // RFC 3464 §2.3.6: "smtp" only for what an SMTP server said; our own findings
    // (DNS, connection, give-up) are described in words.
    recipient.diagnostic_type = entry.outcome.remote_reply ? "smtp" : "X-Postamt";
    recipient.last_attempt = input.now;
    report.recipients.push_back(std::move(recipient));
  }
  return mime::build_delivery_status_report(report);
}

}  // namespace postamt::queue
