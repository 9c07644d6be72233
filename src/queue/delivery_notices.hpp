#pragma once
// DeliveryNotices: the delivery status notifications the queue sends back to a message's
// envelope sender (RFC 3461 §6, RFC 3464): "failed" on a permanent failure or when the
// queue gives up, "relayed" when NOTIFY=SUCCESS was asked of a server that has no DSN.
// A notice goes out with the null reverse-path, so it is never answered by another one
// (RFC 5321 §6.1); a message from the null sender gets none. A local sender finds it in
// the INBOX at once; a remote one gets it through the queue like any other mail.
//
// Blocking (blob read, MIME composition, durable delivery): run it on the storage pool.
#include <span>
#include <string>

#include "delivery/group_committer.hpp"
#include "queue/attempt_outcome.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::mailauth {
class DkimSigningService;
}

namespace postamt::queue {

enum class NoticeAction { failed, relayed };

struct NoticeEntry {
  storage::QueueRecipient recipient;  // as queued (address, ORCPT, NOTIFY)
  RecipientOutcome outcome;
  NoticeAction action = NoticeAction::failed;
};

// RFC 3461 §4.1: whether the sender asked (or, without NOTIFY, is assumed to want) this
// kind of notice for the recipient.
bool notice_wanted(const storage::QueueRecipient& recipient, NoticeAction action);

class DeliveryNotices {
 public:
  DeliveryNotices(std::string hostname, storage::MailStore& store, storage::BlobStore& blobs,
                  delivery::GroupCommitter& committer, std::uint64_t max_returned_size,
                  const mailauth::DkimSigningService* dkim = nullptr);

  // One notice for `message` covering `entries` (the caller filtered them with
  // notice_wanted). Nothing is sent for the null sender or no entries.
  storage::StoreResult<void> send(const storage::QueueMessage& message, std::span<const NoticeEntry> entries,
                                  storage::UnixTime now);

 private:
  std::string hostname_;
  storage::MailStore& store_;
  storage::BlobStore& blobs_;
  delivery::GroupCommitter& committer_;
  std::uint64_t max_returned_size_;
  const mailauth::DkimSigningService* dkim_;  // signs notices From MAILER-DAEMON@hostname
};

}  // namespace postamt::queue
