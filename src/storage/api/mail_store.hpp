#pragma once
// MailStore: the index of everything Postamt keeps (domains, accounts, aliases, mailboxes,
// messages, subscriptions, the outbound queue). Implementations are blocking and
// thread-safe; callers on I/O threads reach them through the blocking pool, never directly.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/api/storage_error.hpp"
#include "storage/api/types.hpp"

namespace postamt::storage {

class MailStore {
 public:
  virtual ~MailStore() = default;

  // Schema version after migrations (for `postamt check-config` and diagnostics).
  virtual int schema_version() = 0;

  // --- domains
  virtual StoreResult<DomainRecord> add_domain(std::string_view name) = 0;
  virtual StoreResult<std::vector<DomainRecord>> list_domains() = 0;
  virtual StoreResult<DomainRecord> find_domain(std::string_view name) = 0;
  // Refuses (conflict) while accounts or aliases of the domain exist.
  virtual StoreResult<void> delete_domain(std::string_view name) = 0;

  // --- accounts: creating one creates INBOX and the special-use mailboxes
  // (Drafts, Sent, Trash, Junk, Archive) in the same transaction.
  virtual StoreResult<AccountRecord> add_account(std::string_view address,
                                                 std::string_view password_hash) = 0;
  virtual StoreResult<std::vector<AccountRecord>> list_accounts(std::string_view domain = {}) = 0;
  virtual StoreResult<AccountRecord> find_account(std::string_view address) = 0;
  virtual StoreResult<void> set_password_hash(std::string_view address,
                                              std::string_view password_hash) = 0;
  virtual StoreResult<void> set_quota(std::string_view address, std::uint64_t quota_bytes) = 0;
  // Deletes the account, its mailboxes, messages and subscriptions (blob references drop).
  virtual StoreResult<void> delete_account(std::string_view address) = 0;

  // --- aliases
  virtual StoreResult<AliasRecord> add_alias(std::string_view source,
                                             std::string_view destination) = 0;
  virtual StoreResult<std::vector<AliasRecord>> list_aliases(std::string_view domain = {}) = 0;
  virtual StoreResult<std::vector<AliasRecord>> find_aliases(std::string_view source) = 0;
  // Empty destination: every row of that source.
  virtual StoreResult<void> delete_alias(std::string_view source,
                                         std::string_view destination = {}) = 0;

  // --- mailboxes
  virtual StoreResult<MailboxRecord> create_mailbox(Id account_id, std::string_view name,
                                                    SpecialUse special_use = SpecialUse::none) = 0;
  virtual StoreResult<std::vector<MailboxRecord>> list_mailboxes(Id account_id) = 0;
  virtual StoreResult<MailboxRecord> find_mailbox(Id account_id, std::string_view name) = 0;
  virtual StoreResult<void> rename_mailbox(Id account_id, std::string_view from,
                                           std::string_view to) = 0;
  virtual StoreResult<void> delete_mailbox(Id account_id, std::string_view name) = 0;

  // --- messages
  // Appends every message in one transaction (group commit): each gets the mailbox's
  // next UID and a new MODSEQ; blob reference counts rise. Returns the rows in order.
  virtual StoreResult<std::vector<MessageRecord>> append_messages(
      std::span<const NewMessage> messages) = 0;
  virtual StoreResult<std::vector<MessageRecord>> list_messages(Id mailbox_id) = 0;
  // Replaces the flags of the given UIDs; each changed message gets a new MODSEQ.
  virtual StoreResult<void> set_flags(Id mailbox_id, std::span<const std::uint32_t> uids,
                                      std::span<const std::string> flags) = 0;
  // Removes the given UIDs; blob reference counts drop.
  virtual StoreResult<void> expunge(Id mailbox_id, std::span<const std::uint32_t> uids) = 0;

  // --- subscriptions (IMAP LSUB/LIST-EXTENDED SUBSCRIBED); names need not exist
  virtual StoreResult<void> subscribe(Id account_id, std::string_view name) = 0;
  virtual StoreResult<void> unsubscribe(Id account_id, std::string_view name) = 0;
  virtual StoreResult<std::vector<std::string>> list_subscriptions(Id account_id) = 0;

  // --- blobs: reference counts kept in the index, files in the BlobStore
  // Blobs whose reference count fell to zero; the caller deletes the files, then forgets them.
  virtual StoreResult<std::vector<std::string>> unreferenced_blobs() = 0;
  virtual StoreResult<void> forget_blobs(std::span<const std::string> blob_ids) = 0;
  virtual StoreResult<bool> blob_known(std::string_view blob_id) = 0;

  // --- outbound queue
  virtual StoreResult<QueueMessage> enqueue(const QueueMessage& message) = 0;
  virtual StoreResult<std::vector<QueueMessage>> list_queue() = 0;
  virtual StoreResult<QueueMessage> find_queued(Id message_id) = 0;
  virtual StoreResult<void> update_recipient(const QueueRecipient& recipient) = 0;
  virtual StoreResult<void> delete_queued(Id message_id) = 0;

  // --- delivery (group commit)
  // Every item in ONE transaction (one fsync), each item all-or-nothing on its own: the
  // outcomes line up with the items, and a failing item does not fail the others. When
  // the commit itself fails, every outcome carries that error.
  virtual std::vector<StoreResult<DeliveryOutcome>> commit_deliveries(
      std::span<const DeliveryItem> items) = 0;
};

}  // namespace postamt::storage
