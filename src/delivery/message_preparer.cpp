#include "delivery/message_preparer.hpp"

#include <set>

#include "mime/analyze_message.hpp"

namespace postamt::delivery {

storage::StoreResult<storage::DeliveryItem> MessagePreparer::prepare(const IncomingMessage& message) {
  // The blob is durable before any index row can point at it (now, or by the group
  // commit's sync before its transaction); a crash between the two leaves an unreferenced
  // file for garbage collection, never a row without its bytes.
  const bool durable = durability_ == BlobDurability::immediate;
  std::string_view content = message.content;
  if (message.spooled) {
    // The spool file is mapped, not read: analysis below sees it without a heap copy.
    auto mapped = message.spooled->view();
    if (!mapped) return std::unexpected(mapped.error());
    content = *mapped;
  }
  auto blob = message.spooled ? message.spooled->commit(durable)
              : durable       ? blobs_.put(content)
                              : blobs_.put_unsynced(content);
  if (!blob) return std::unexpected(blob.error());
  auto item = prepare_rows(message, content, *blob);
  // The put holds the blob until the commit; without an item there is none to wait for.
  if (!item) blobs_.release(blob->id, storage::BlobPins::After::check);
  return item;
}

storage::StoreResult<storage::DeliveryItem> MessagePreparer::prepare_rows(const IncomingMessage& message,
                                                                         std::string_view content,
                                                                         const storage::BlobRef& blob_ref) {
  const storage::BlobRef* blob = &blob_ref;
  storage::DeliveryItem item;
  item.held_blob = blob->id;
  std::set<storage::Id> accounts;
  std::string metadata;
  for (const auto& recipient : message.recipients) {
    for (const auto& local : recipient.resolution.local) {
      if (!accounts.insert(local.account_id).second) continue;  // one copy per account
      auto inbox = store_.find_mailbox(local.account_id, recipient.mailbox.empty() ? "INBOX" : recipient.mailbox);
      if (!inbox && inbox.error().code == storage::StorageError::Code::not_found && !recipient.mailbox.empty()) {
        inbox = store_.find_mailbox(local.account_id, "INBOX");
      }
      if (!inbox) return std::unexpected(inbox.error());
      if (metadata.empty()) metadata = mime::analyze_message(content).serialize();
      storage::NewMessage row;
      row.mailbox_id = inbox->id;
      row.internal_date = message.received_at;
      row.size = blob->size;
      row.blob_id = blob->id;
      row.mime_metadata = metadata;
      item.messages.push_back(std::move(row));
    }
  }

  std::set<std::string> remote_seen;
  storage::QueueMessage outbound;
  for (const auto& recipient : message.recipients) {
    for (const auto& address : recipient.resolution.remote) {
      if (!remote_seen.insert(address).second) continue;
      storage::QueueRecipient queued;
      queued.address = address;
      // DSN parameters belong to the recipient the client named; an alias expansion
      // keeps the original recipient so a bounce names what the sender wrote.
      queued.notify = recipient.notify;
      queued.orcpt = recipient.orcpt.empty() && address != recipient.address
                         ? "rfc822;" + recipient.address
                         : recipient.orcpt;
      queued.next_attempt_at = message.received_at;
      outbound.recipients.push_back(std::move(queued));
    }
  }
  if (!outbound.recipients.empty()) {
    outbound.sender = message.reverse_path;
    outbound.blob_id = blob->id;
    outbound.size = blob->size;
    outbound.envid = message.envid;
    outbound.ret = message.ret;
    outbound.created_at = message.received_at;
    item.outbound = std::move(outbound);
  }
  return item;
}

}  // namespace postamt::delivery
