#pragma once
// MessagePreparer: the blocking half of delivery (MDA). It writes the message bytes once
// as a durable blob (or commits the blob they were already streamed to), parses the message once (mime::analyze_message) for the metadata
// IMAP serves, and turns the envelope into one DeliveryItem: an INBOX row per local
// account and, for remote recipients, one outbound queue entry sharing the same blob.
// The GroupCommitter then makes the item durable together with concurrent ones.
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "delivery/recipient_resolver.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::delivery {

struct IncomingRecipient {
  std::string address;    // as accepted at RCPT
  Resolution resolution;  // what it resolved to at RCPT time
  std::string notify;     // RFC 3461 NOTIFY as text ("" when absent)
  std::string orcpt;      // RFC 3461 ORCPT as "type;address" ("" when absent)
  // The mailbox local copies go to; "" is INBOX. A mailbox the account does not have
  // (a "Junk" it deleted) falls back to INBOX: the mail is delivered, never lost.
  std::string mailbox;
};

struct IncomingMessage {
  std::string reverse_path;  // "" for the null sender
  std::string envid;
  std::string ret;  // "FULL", "HDRS" or ""
  std::vector<IncomingRecipient> recipients;
  std::string content;  // the whole message, trace headers included, CRLF line ends
  // Or, for a large message, the same bytes already written to a blob file as they came
  // (smtp/ MessageSpool): committed as the blob without another copy; content is unused.
  std::unique_ptr<storage::BlobWriter> spooled;
  std::time_t received_at = 0;
};

// When the blob becomes durable: at once (put), or with the group commit of the item
// (put_unsynced; the GroupCommitter syncs the blob store before it commits the batch,
// so one sync serves every delivery in it).
enum class BlobDurability { immediate, with_group_commit };

class MessagePreparer {
 public:
  MessagePreparer(storage::MailStore& store, storage::BlobStore& blobs,
                  BlobDurability durability = BlobDurability::immediate)
      : store_(store), blobs_(blobs), durability_(durability) {}

  // The item holds its blob (item.held_blob) until the GroupCommitter commits it; whoever
  // drops an item without committing it releases the blob (BlobStore::release).
  storage::StoreResult<storage::DeliveryItem> prepare(const IncomingMessage& message);

 private:
  storage::StoreResult<storage::DeliveryItem> prepare_rows(const IncomingMessage& message,
                                                           std::string_view content,
                                                           const storage::BlobRef& blob);

  storage::MailStore& store_;
  storage::BlobStore& blobs_;
  BlobDurability durability_;
};

}  // namespace postamt::delivery
