#pragma once
// The text of a delivery status notification for some recipients of one queued message:
// the queue's facts mapped onto the RFC 3464 report (mime::delivery_status_report).
#include <span>
#include <string>
#include <string_view>

#include "storage/api/types.hpp"

namespace postamt::queue {

struct NoticeEntry;

struct NoticeInput {
  std::string_view hostname;  // Reporting-MTA and the MAILER-DAEMON address
  const storage::QueueMessage& message;
  std::span<const NoticeEntry> entries;
  std::string_view original;  // the queued content ("" when it could not be read)
  std::uint64_t max_returned_size = 0;
  storage::UnixTime now = 0;
};

// Backscatter (docs/OPERATIONS.md): a notice about mail this server forwarded through an
// alias returns the header only, since the sender of forwarded mail is often forged.
std::string compose_notice(const NoticeInput& input);

// Whether the recipient was queued by expanding a local alias to a remote address: its
// ORCPT names another address than the one it is queued for.
bool arrived_through_forwarding(const storage::QueueRecipient& recipient);

}  // namespace postamt::queue
