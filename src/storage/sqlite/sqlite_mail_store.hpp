#pragma once
// SqliteMailStore: the embedded MailStore backend, one SQLite database in WAL mode
// (DESIGN.md "Storage"). Calls are blocking and serialised by one mutex; run them on the
// storage pool. The SQLite headers stay out of this file. The implementation is split by
// topic: sqlite_mail_store.cpp (opening, change notification, domains), sqlite_accounts.cpp
// (with quota), sqlite_aliases, sqlite_mailboxes, sqlite_messages, sqlite_flags (STORE),
// sqlite_copy (COPY/MOVE), sqlite_subscriptions, sqlite_blobs, sqlite_text_index (SEARCH
// candidates), sqlite_queue (the outbound queue), sqlite_queue_operator (its operator
// actions and counters), sqlite_delivery, sqlite_dmarc (DMARC evaluations and reports), sqlite_outbound
// (per-account outbound counts and holds), sqlite_classifier (the spam classifier's counts).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/api/mail_store.hpp"

namespace postamt::storage {

namespace sqlite {
class Database;
}

class SqliteMailStore final : public MailStore {
 public:
  // Opens data_dir/index.sqlite3 (creating the directory and file when absent) and
  // applies the schema migrations. Throws std::runtime_error when that fails.
  explicit SqliteMailStore(const std::filesystem::path& data_dir);
  ~SqliteMailStore() override;
  SqliteMailStore(const SqliteMailStore&) = delete;
  SqliteMailStore& operator=(const SqliteMailStore&) = delete;

  int schema_version() override;

  StoreResult<DomainRecord> add_domain(std::string_view name) override;
  StoreResult<std::vector<DomainRecord>> list_domains() override;
  StoreResult<DomainRecord> find_domain(std::string_view name) override;
  StoreResult<void> delete_domain(std::string_view name) override;

  StoreResult<AccountRecord> add_account(std::string_view address,
                                         std::string_view password_hash) override;
  StoreResult<std::vector<AccountRecord>> list_accounts(std::string_view domain = {}) override;
  StoreResult<AccountRecord> find_account(std::string_view address) override;
  StoreResult<void> set_password_hash(std::string_view address,
                                      std::string_view password_hash) override;
  StoreResult<void> set_quota(std::string_view address, std::uint64_t quota_bytes) override;
  StoreResult<void> delete_account(std::string_view address) override;

  StoreResult<AliasRecord> add_alias(std::string_view source,
                                     std::string_view destination) override;
  StoreResult<std::vector<AliasRecord>> list_aliases(std::string_view domain = {}) override;
  StoreResult<std::vector<AliasRecord>> find_aliases(std::string_view source) override;
  StoreResult<void> delete_alias(std::string_view source,
                                 std::string_view destination = {}) override;

  StoreResult<MailboxRecord> create_mailbox(Id account_id, std::string_view name,
                                            SpecialUse special_use = SpecialUse::none) override;
  StoreResult<std::vector<MailboxRecord>> list_mailboxes(Id account_id) override;
  StoreResult<MailboxRecord> find_mailbox(Id account_id, std::string_view name) override;
  StoreResult<void> rename_mailbox(Id account_id, std::string_view from,
                                   std::string_view to) override;
  StoreResult<void> delete_mailbox(Id account_id, std::string_view name) override;

  StoreResult<std::vector<MessageRecord>> append_messages(
      std::span<const NewMessage> messages) override;
  StoreResult<std::vector<MessageRecord>> list_messages(Id mailbox_id) override;
  StoreResult<void> set_flags(Id mailbox_id, std::span<const std::uint32_t> uids,
                              std::span<const std::string> flags) override;
  StoreResult<void> expunge(Id mailbox_id, std::span<const std::uint32_t> uids) override;

  StoreResult<MailboxRecord> find_mailbox_by_id(Id mailbox_id) override;
  StoreResult<MailboxStatus> mailbox_status(Id mailbox_id) override;
  StoreResult<std::vector<MessageSummary>> list_summaries(Id mailbox_id,
                                                          std::uint64_t changed_since = 0) override;
  StoreResult<std::vector<MessageSummary>> list_summaries_after(Id mailbox_id,
                                                                std::uint32_t after_uid) override;
  StoreResult<std::vector<MessageRecord>> fetch_messages(
      Id mailbox_id, std::span<const std::uint32_t> uids) override;
  StoreResult<std::vector<MessageRecord>> fetch_message_blobs(
      Id mailbox_id, std::span<const std::uint32_t> uids) override;
  StoreResult<FlagUpdateResult> update_flags(
      Id mailbox_id, std::span<const std::uint32_t> uids, FlagChange change,
      std::span<const std::string> flags,
      std::optional<std::uint64_t> unchanged_since = std::nullopt) override;
  StoreResult<std::vector<std::uint32_t>> expunged_since(Id mailbox_id,
                                                         std::uint64_t modseq) override;
  StoreResult<CopyResult> copy_messages(Id source_mailbox_id, std::span<const std::uint32_t> uids,
                                        Id destination_mailbox_id, bool move) override;
  StoreResult<std::uint32_t> claim_recent(Id mailbox_id) override;
  StoreResult<std::uint64_t> account_usage(Id account_id) override;

  StoreResult<void> subscribe(Id account_id, std::string_view name) override;
  StoreResult<void> unsubscribe(Id account_id, std::string_view name) override;
  StoreResult<std::vector<std::string>> list_subscriptions(Id account_id) override;

  StoreResult<std::vector<std::string>> unreferenced_blobs() override;
  StoreResult<void> forget_blobs(std::span<const std::string> blob_ids) override;
  StoreResult<bool> blob_known(std::string_view blob_id) override;
  StoreResult<std::vector<std::string>> forget_unreferenced_blobs(
      std::span<const std::string> blob_ids) override;

  StoreResult<void> probe_write() override;
  StoreResult<std::vector<BlobUse>> sample_blob_uses(std::size_t limit) override;

  StoreResult<std::vector<UnindexedBlob>> unindexed_blobs(std::size_t limit,
                                                          std::int64_t after_seq = 0) override;
  StoreResult<void> index_blob_texts(std::span<const BlobText> texts) override;
  StoreResult<std::size_t> purge_text_index(std::size_t limit) override;
  StoreResult<std::vector<std::uint32_t>> text_candidates(Id mailbox_id,
                                                          std::string_view folded_needle) override;
  StoreResult<std::vector<std::uint32_t>> unindexed_uids(Id mailbox_id) override;

  StoreResult<QueueMessage> enqueue(const QueueMessage& message) override;
  std::vector<StoreResult<DeliveryOutcome>> commit_deliveries(
      std::span<const DeliveryItem> items) override;
  StoreResult<std::vector<QueueMessage>> list_queue() override;
  StoreResult<QueueMessage> find_queued(Id message_id) override;
  StoreResult<void> update_recipient(const QueueRecipient& recipient) override;
  StoreResult<void> delete_queued(Id message_id) override;
  StoreResult<std::vector<QueueMessage>> due_queue(UnixTime now, std::size_t limit) override;
  StoreResult<std::size_t> flush_queue(std::optional<Id> message_id, UnixTime now) override;
  StoreResult<std::size_t> hold_queued(Id message_id) override;
  StoreResult<std::size_t> release_queued(Id message_id, UnixTime now) override;
  StoreResult<QueueCounts> queue_counts() override;

  StoreResult<void> record_dmarc_evaluations(std::span<const DmarcEvaluation> evaluations) override;
  StoreResult<std::vector<DmarcPendingReport>> pending_dmarc_reports(UnixTime until) override;
  StoreResult<void> mark_dmarc_reported(const DmarcPendingReport& report, UnixTime until) override;
  StoreResult<std::vector<DmarcEvaluationGroup>> list_dmarc_evaluations(std::size_t limit) override;
  StoreResult<std::size_t> prune_dmarc(UnixTime evaluations_before, UnixTime received_before) override;
  StoreResult<UnixTime> dmarc_report_run_day() override;
  StoreResult<void> set_dmarc_report_run_day(UnixTime day) override;
  StoreResult<bool> add_dmarc_received_report(const DmarcReceivedReport& report) override;
  StoreResult<std::vector<DmarcReceivedRow>> dmarc_received_rows(std::string_view policy_domain,
                                                                 UnixTime since) override;
  StoreResult<std::uint32_t> dmarc_ingest_cursor(Id mailbox_id) override;
  StoreResult<void> set_dmarc_ingest_cursor(Id mailbox_id, std::uint32_t last_uid) override;

  StoreResult<void> add_security_events(std::span<const SecurityEventRow> events) override;
  StoreResult<std::vector<SecurityEventRow>> security_events(const SecurityEventQuery& query) override;
  StoreResult<std::size_t> prune_security_events(UnixTime before, std::size_t keep_rows) override;
  StoreResult<void> put_ban(const BanRow& ban) override;
  StoreResult<std::vector<BanRow>> list_bans(UnixTime after) override;
  StoreResult<std::vector<BanRow>> lift_bans(std::span<const std::string> targets, UnixTime now) override;
  StoreResult<std::size_t> prune_bans(UnixTime before) override;
  StoreResult<std::optional<AccountHold>> find_account_hold(std::string_view account) override;
  StoreResult<std::vector<AccountHold>> list_account_holds() override;
  StoreResult<bool> hold_account(const AccountHold& hold) override;
  StoreResult<AccountHold> release_account_hold(std::string_view account, UnixTime now) override;
  StoreResult<std::vector<OutboundHour>> outbound_hours(std::string_view account, UnixTime since) override;
  StoreResult<std::vector<std::string>> new_correspondents(std::string_view account,
                                                          std::span<const std::string> addresses) override;
  StoreResult<std::size_t> record_submission(const OutboundSubmission& submission) override;
  StoreResult<std::vector<std::string>> accounts_with_bounces(UnixTime since) override;
  StoreResult<std::size_t> prune_outbound_hours(UnixTime before) override;

  StoreResult<ClassifierSnapshot> classifier_snapshot(std::string_view account,
                                                      std::span<const std::uint64_t> tokens) override;
  StoreResult<void> record_classifier_lesson(const ClassifierLesson& lesson) override;
  StoreResult<ClassifierTotals> classifier_stats(std::string_view account) override;
  StoreResult<std::size_t> prune_classifier_tokens(UnixTime seen_before, std::size_t limit) override;

  // The listener must not throw; if it does anyway, the exception is logged and dropped
  // (the transaction is committed already).
  void set_change_listener(ChangeListener listener) override;

 private:
  // Bytes each account gains (or, negative, loses) in one transaction, for the quota check.
  using AccountGrowth = std::vector<std::pair<Id, std::int64_t>>;
  static void add_growth(AccountGrowth& growth, Id account_id, std::int64_t bytes);

  // Runs `body(changed)` under the mutex. The body appends to `changed` the mailboxes
  // whose messages a transaction it COMMITTED changed; after the mutex is released the
  // change listener hears about them (deduplicated), on this thread.
  template <class Body>
  auto locked_with_changes(Body body);
  static void notify(const std::shared_ptr<const ChangeListener>& listener,
                     std::vector<Id> changed);

  // Helpers named *_locked expect mutex_ held (and, where they write, a transaction open).
  StoreResult<DomainRecord> find_domain_locked(const std::string& name);
  StoreResult<AccountRecord> find_account_locked(const std::string& address);
  StoreResult<void> require_account_locked(Id account_id);
  StoreResult<MailboxRecord> find_mailbox_locked(Id account_id, const std::string& name);
  StoreResult<void> require_mailbox_locked(Id mailbox_id);
  // fetch_messages and fetch_message_blobs: `sql` selects what read_message reads.
  StoreResult<std::vector<MessageRecord>> fetch_message_rows(const std::string& sql, Id mailbox_id,
                                                             std::span<const std::uint32_t> uids);
  StoreResult<std::uint32_t> next_uidvalidity_locked();
  StoreResult<MailboxRecord> create_mailbox_locked(Id account_id, const std::string& name,
                                                   SpecialUse special_use);
  StoreResult<void> subscribe_locked(Id account_id, const std::string& name);
  StoreResult<MailboxRecord> find_mailbox_by_id_locked(Id mailbox_id);
  StoreResult<std::uint64_t> next_modseq_locked(Id mailbox_id);
  // Takes `count` MODSEQs at once; returns the first (they are first .. first+count-1).
  StoreResult<std::uint64_t> take_modseqs_locked(Id mailbox_id, std::uint64_t count);
  static StoreResult<std::vector<MessageRecord>> message_records(
      std::span<const NewMessage> messages);
  // Assigns UIDs and MODSEQs and inserts; returns what each account grew by.
  StoreResult<AccountGrowth> insert_messages_locked(std::vector<MessageRecord>& records);
  // Deletes the existing ones of the ascending `uids` and records them as expunged with
  // one new MODSEQ; returns the UIDs removed.
  StoreResult<std::vector<std::uint32_t>> expunge_locked(Id mailbox_id,
                                                         std::span<const std::uint32_t> uids);
  // quota_exceeded when an account that grew is now above its quota (0: unlimited).
  StoreResult<void> enforce_quota_locked(const AccountGrowth& growth);
  static StoreResult<void> validate_queue_message(const QueueMessage& message);
  StoreResult<void> insert_queue_locked(QueueMessage& record);
  StoreResult<std::vector<QueueRecipient>> queue_recipients_locked(Id message_id);
  // not_found unless the queued message exists.
  StoreResult<void> require_queued_locked(Id message_id);
  // Takes the mutex: one operator action on queue recipients (sqlite_queue_operator.cpp).
  StoreResult<std::size_t> change_recipients(std::string_view sql, Id message_id,
                                             std::optional<UnixTime> now);

  // Timed so that /healthz's probe can give up on a store another call holds (e.g.
  // through its own busy wait) instead of making its client wait.
  std::timed_mutex mutex_;
  std::unique_ptr<sqlite::Database> db_;
  int schema_version_ = 0;
  std::shared_ptr<const ChangeListener> listener_;  // guarded by mutex_; null: none
};

template <class Body>
auto SqliteMailStore::locked_with_changes(Body body) {
  std::vector<Id> changed;
  std::shared_ptr<const ChangeListener> listener;
  auto result = [&] {
    std::lock_guard lock(mutex_);
    listener = listener_;
    return body(changed);
  }();
  if (!changed.empty()) notify(listener, std::move(changed));
  return result;
}

// Opens the embedded store in data_dir (see SqliteMailStore). Throws std::runtime_error
// with a message naming the file when the database cannot be opened or migrated.
std::unique_ptr<MailStore> open_sqlite_store(const std::filesystem::path& data_dir);

}  // namespace postamt::storage
