#pragma once
// MailStore: the index of everything Postamt keeps (domains, accounts, aliases, mailboxes,
// messages, subscriptions, the outbound queue). Implementations are blocking and
// thread-safe; callers on I/O threads reach them through the blocking pool, never directly.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/api/classifier_types.hpp"
#include "storage/api/dmarc_types.hpp"
#include "storage/api/outbound_types.hpp"
#include "storage/api/security_types.hpp"
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
  // Replaces the flags of the given UIDs (missing ones are skipped); each changed message
  // gets a new MODSEQ.
  virtual StoreResult<void> set_flags(Id mailbox_id, std::span<const std::uint32_t> uids,
                                      std::span<const std::string> flags) = 0;
  // Removes the given UIDs (missing ones are skipped); blob reference counts drop. The
  // removed UIDs are recorded with the one new MODSEQ of the removal (expunged_since).
  virtual StoreResult<void> expunge(Id mailbox_id, std::span<const std::uint32_t> uids) = 0;

  // --- IMAP access (schema version 2)
  virtual StoreResult<MailboxRecord> find_mailbox_by_id(Id mailbox_id) = 0;
  // STATUS counters of one mailbox.
  virtual StoreResult<MailboxStatus> mailbox_status(Id mailbox_id) = 0;
  // Every message's summary in UID order (SELECT); with changed_since > 0 only those whose
  // MODSEQ is above it (CONDSTORE/QRESYNC and the resync of other sessions' changes).
  virtual StoreResult<std::vector<MessageSummary>> list_summaries(
      Id mailbox_id, std::uint64_t changed_since = 0) = 0;
  // Summaries of UIDs above `after_uid` (new mail since a session last looked).
  virtual StoreResult<std::vector<MessageSummary>> list_summaries_after(
      Id mailbox_id, std::uint32_t after_uid) = 0;
  // The full records (blob id, metadata) of the given UIDs that exist, in UID order.
  virtual StoreResult<std::vector<MessageRecord>> fetch_messages(
      Id mailbox_id, std::span<const std::uint32_t> uids) = 0;
  // The same without the MIME metadata (mime_metadata left empty): for callers that only
  // need each message's blob, such as a header scan answered from a cache.
  virtual StoreResult<std::vector<MessageRecord>> fetch_message_blobs(
      Id mailbox_id, std::span<const std::uint32_t> uids) = 0;
  // STORE: changes the flags of the given UIDs (any order, duplicates and missing UIDs
  // allowed); each message whose flags really change gets its own new MODSEQ (RFC 7162
  // §3.1.1), and only those are in `changed` (UID order). With unchanged_since, messages
  // whose MODSEQ is above it are left alone and listed in `modified` (RFC 7162 §3.1.3;
  // 0 refuses every message). Flags are validated (atoms or system flags; \Recent refused,
  // Code::invalid); keywords compare case-insensitively and keep their stored spelling.
  virtual StoreResult<FlagUpdateResult> update_flags(
      Id mailbox_id, std::span<const std::uint32_t> uids, FlagChange change,
      std::span<const std::string> flags,
      std::optional<std::uint64_t> unchanged_since = std::nullopt) = 0;
  // UIDs expunged from the mailbox with an expunge MODSEQ above `modseq`, ascending
  // (QRESYNC VANISHED (EARLIER), RFC 7162 §3.2.5.2, and other sessions' resync). expunge()
  // and move records every removed UID with the MODSEQ of its removal.
  virtual StoreResult<std::vector<std::uint32_t>> expunged_since(Id mailbox_id,
                                                                 std::uint64_t modseq) = 0;
  // COPY and MOVE (RFC 6851: one transaction; the source UIDs are expunged as expunge()
  // does). Missing source UIDs are skipped; the copies get new UIDs and MODSEQs in source
  // UID order. Copies keep flags, internal date and metadata and share the blob. Source and
  // destination may be the same mailbox. Quota is checked against the destination account
  // (Code::quota_exceeded); a MOVE between mailboxes of one account never exceeds it.
  virtual StoreResult<CopyResult> copy_messages(Id source_mailbox_id,
                                                std::span<const std::uint32_t> uids,
                                                Id destination_mailbox_id, bool move) = 0;
  // rev1 \Recent (RFC 3501 §2.3.2): returns the mailbox's first recent UID and moves the
  // mark to UIDNEXT, so exactly one session (the one that SELECTs, not EXAMINEs) sees the
  // messages as recent: the UIDs from the returned one on. Returns UIDNEXT when nothing is
  // recent. New mailboxes start with every message recent.
  virtual StoreResult<std::uint32_t> claim_recent(Id mailbox_id) = 0;
  // Bytes stored in all the account's mailboxes (QUOTA STORAGE is this / 1024).
  virtual StoreResult<std::uint64_t> account_usage(Id account_id) = 0;

  // --- subscriptions (IMAP LSUB/LIST-EXTENDED SUBSCRIBED); names need not exist
  virtual StoreResult<void> subscribe(Id account_id, std::string_view name) = 0;
  virtual StoreResult<void> unsubscribe(Id account_id, std::string_view name) = 0;
  virtual StoreResult<std::vector<std::string>> list_subscriptions(Id account_id) = 0;

  // --- blobs: reference counts kept in the index, files in the BlobStore
  // Blobs whose reference count fell to zero; the caller deletes the files, then forgets them.
  virtual StoreResult<std::vector<std::string>> unreferenced_blobs() = 0;
  virtual StoreResult<void> forget_blobs(std::span<const std::string> blob_ids) = 0;
  virtual StoreResult<bool> blob_known(std::string_view blob_id) = 0;
  // The reclaimer's step (blob_reclaimer.hpp), in one transaction: of `blob_ids`, forgets
  // those whose reference count is zero and returns them together with the ids the index
  // does not know at all (files of refused messages); ids still referenced are kept and
  // left out. The caller deletes the returned files.
  virtual StoreResult<std::vector<std::string>> forget_unreferenced_blobs(
      std::span<const std::string> blob_ids) = 0;

  // --- health (/healthz)
  // One small write transaction (a row of meta): fails when the index cannot be written.
  virtual StoreResult<void> probe_write() = 0;
  // Up to `limit` references of messages and queue entries, from a random point (cheap:
  // index lookups only); the caller checks them against the blob files.
  virtual StoreResult<std::vector<BlobUse>> sample_blob_uses(std::size_t limit) = 0;

  // --- full-text index of the messages' text (schema version 3), for SEARCH BODY / TEXT
  // It yields CANDIDATES: the caller still checks each message, so a search keeps RFC 9051
  // §6.4.4 substring semantics. One entry per blob, whatever number of messages share it;
  // an entry goes when the last message referencing its blob does.
  //
  // Blobs referenced by messages and not indexed yet, oldest first, at most `limit`, only
  // those whose `seq` is above `after_seq` (an indexer's cursor past blobs it had to skip).
  virtual StoreResult<std::vector<UnindexedBlob>> unindexed_blobs(std::size_t limit,
                                                                  std::int64_t after_seq = 0) = 0;
  // Stores the texts in one transaction. The text is stored as given (the caller folds it
  // exactly as its matcher does); "" marks a blob with nothing to search. Blobs that are not
  // waiting any more (indexed already, or no message references them now) are skipped.
  virtual StoreResult<void> index_blob_texts(std::span<const BlobText> texts) = 0;
  // Frees the space of at most `limit` texts whose blob lost its last message (their
  // entries are gone at once; the text itself goes here, in a bounded transaction). Returns
  // how many it removed: `limit` means more may be left.
  virtual StoreResult<std::size_t> purge_text_index(std::size_t limit) = 0;
  // UIDs (ascending) of the mailbox's messages whose blob's indexed text contains
  // `folded_needle` (a substring of valid UTF-8, folded like the indexed text). The needle
  // needs at least 3 characters (UTF-8 code points): a trigram index cannot look up less,
  // and a shorter one is refused (invalid). Messages not indexed yet are NOT included: add
  // unindexed_uids(), asked BEFORE this call (a blob indexed in between then shows up here).
  virtual StoreResult<std::vector<std::uint32_t>> text_candidates(
      Id mailbox_id, std::string_view folded_needle) = 0;
  // UIDs (ascending) of the mailbox's messages whose blob is not indexed yet: candidates for
  // every text search.
  virtual StoreResult<std::vector<std::uint32_t>> unindexed_uids(Id mailbox_id) = 0;

  // --- outbound queue
  virtual StoreResult<QueueMessage> enqueue(const QueueMessage& message) = 0;
  virtual StoreResult<std::vector<QueueMessage>> list_queue() = 0;
  virtual StoreResult<QueueMessage> find_queued(Id message_id) = 0;
  // Stores state, attempts, next_attempt_at and last_reply of one recipient (not_found
  // when the operator deleted it meanwhile). A held recipient stays held unless the new
  // state is final (delivered, bounced): an attempt in flight when the operator held the
  // message must not release it. When no recipient of the message is left pending
  // (queued, deferred or held), the message is removed with its blob reference.
  virtual StoreResult<void> update_recipient(const QueueRecipient& recipient) = 0;
  virtual StoreResult<void> delete_queued(Id message_id) = 0;
  // The work of one scheduler pass: messages with at least one recipient in state queued
  // or deferred whose next_attempt_at <= now, each holding ONLY those due recipients;
  // the messages whose earliest due recipient is oldest first, at most `limit` messages.
  virtual StoreResult<std::vector<QueueMessage>> due_queue(UnixTime now, std::size_t limit) = 0;
  // Operator actions (`postamt queue ...`); each returns how many recipients changed and
  // not_found when the message does not exist.
  //  flush: queued/deferred recipients become due at `now` (state kept);
  //         no id: every message in the queue.
  //  hold: queued/deferred -> held; release: held -> queued, due at `now`.
  virtual StoreResult<std::size_t> flush_queue(std::optional<Id> message_id, UnixTime now) = 0;
  virtual StoreResult<std::size_t> hold_queued(Id message_id) = 0;
  virtual StoreResult<std::size_t> release_queued(Id message_id, UnixTime now) = 0;
  // Recipients in the queue by state, for metrics.
  virtual StoreResult<QueueCounts> queue_counts() = 0;

  // --- DMARC aggregate reports (schema version 5; storage/api/dmarc_types.hpp)
  // Our evaluations at SMTP time. Identical evaluations of one UTC day add to one row's
  // count (the report's <record> rows come out of the store ready). Cheap enough for one
  // call per message: one small upsert, committed without syncing the WAL — a power cut
  // may lose the last evaluations (a report then counts a few messages less), never the
  // mail or the database. Over-long values are cut (255 octets; 32 DKIM results).
  virtual StoreResult<void> record_dmarc_evaluations(std::span<const DmarcEvaluation> evaluations) = 0;
  StoreResult<void> record_dmarc_evaluation(const DmarcEvaluation& evaluation) {
    return record_dmarc_evaluations(std::span<const DmarcEvaluation>(&evaluation, 1));
  }
  // Per policy domain (ascending), the evaluations of days before `until` not reported
  // yet (count = those not reported), oldest day first. Every domain is listed, whether
  // its policy asks for reports (rua) or not: the caller decides.
  virtual StoreResult<std::vector<DmarcPendingReport>> pending_dmarc_reports(UnixTime until) = 0;
  // After a report for `report` went out (or was given up): each group's count as
  // listed is reported, and the domain's reported_until becomes `until` — in one
  // transaction, so a restart sends nothing twice. Evaluations recorded meanwhile stay
  // pending.
  virtual StoreResult<void> mark_dmarc_reported(const DmarcPendingReport& report, UnixTime until) = 0;
  // Every evaluation row, newest day first, at most `limit` (`postamt dmarc evaluations`).
  virtual StoreResult<std::vector<DmarcEvaluationGroup>> list_dmarc_evaluations(std::size_t limit) = 0;
  // Retention: drops evaluation rows of days before `evaluations_before` and received
  // reports whose period ended before `received_before`. Returns the rows removed.
  virtual StoreResult<std::size_t> prune_dmarc(UnixTime evaluations_before, UnixTime received_before) = 0;
  // The UTC day (its midnight) of the last daily report run; 0 before the first.
  virtual StoreResult<UnixTime> dmarc_report_run_day() = 0;
  virtual StoreResult<void> set_dmarc_report_run_day(UnixTime day) = 0;
  // Reports other receivers sent about our domains. false: a report of the same reporter
  // (org_name) and report_id is stored already (nothing changes).
  virtual StoreResult<bool> add_dmarc_received_report(const DmarcReceivedReport& report) = 0;
  // Rows of received reports whose period ended at or after `since`, for one policy domain
  // ("": all), newest report first.
  virtual StoreResult<std::vector<DmarcReceivedRow>> dmarc_received_rows(std::string_view policy_domain,
                                                                         UnixTime since) = 0;
  // The reports mailbox's last UID read by the ingestion (0: none yet).
  virtual StoreResult<std::uint32_t> dmarc_ingest_cursor(Id mailbox_id) = 0;
  virtual StoreResult<void> set_dmarc_ingest_cursor(Id mailbox_id, std::uint32_t last_uid) = 0;

  // --- per-account outbound limits and holds (schema version 6; outbound_types.hpp)
  // Accounts compare case-insensitively (ASCII). A held account's queued mail is skipped
  // by due_queue() (matched by QueueMessage::account) and stays queued or deferred.
  virtual StoreResult<std::optional<AccountHold>> find_account_hold(std::string_view account) = 0;
  // Every hold, oldest first, with the recipients each keeps waiting.
  virtual StoreResult<std::vector<AccountHold>> list_account_holds() = 0;
  // false: the account was held already (the first hold's reason and time stay).
  virtual StoreResult<bool> hold_account(const AccountHold& hold) = 0;
  // Lifts the hold (not_found when there is none) and returns it. The account's waiting
  // recipients become due at `now`, and the time the hold lasted is added to their
  // messages' created_at: a hold pauses the max_queue_lifetime clock instead of eating it.
  // The account's counts of the last 24 hours are cleared (they led to the hold; kept, they
  // would hold it again at its next message); older hours stay as its baseline.
  virtual StoreResult<AccountHold> release_account_hold(std::string_view account, UnixTime now) = 0;
  // The account's sending per clock hour from `since` on (ascending; hours with nothing
  // are absent).
  virtual StoreResult<std::vector<OutboundHour>> outbound_hours(std::string_view account, UnixTime since) = 0;
  // Of `addresses`, those the account never sent to (as remembered: see record_submission),
  // each once, lower-cased.
  virtual StoreResult<std::vector<std::string>> new_correspondents(std::string_view account,
                                                                  std::span<const std::string> addresses) = 0;
  // Counts one accepted message in its hour (messages, recipients, first-time recipients)
  // and remembers its recipients as correspondents; beyond keep_known, those written to
  // longest ago are forgotten. Returns how many recipients were first-time ones. Not
  // synced: a power cut may forget the last counts, never mail.
  virtual StoreResult<std::size_t> record_submission(const OutboundSubmission& submission) = 0;
  // Accounts with bounced recipients counted at or after `since` (the bounce signal).
  virtual StoreResult<std::vector<std::string>> accounts_with_bounces(UnixTime since) = 0;
  // Retention: drops the hourly counts before `before`. Returns the rows removed.
  virtual StoreResult<std::size_t> prune_outbound_hours(UnixTime before) = 0;

  // --- security events and bans (schema version 7; security_types.hpp)
  // Appends events in one unsynced transaction (a power cut may lose the last ones).
  virtual StoreResult<void> add_security_events(std::span<const SecurityEventRow> events) = 0;
  virtual StoreResult<std::vector<SecurityEventRow>> security_events(const SecurityEventQuery& query) = 0;
  // Retention: drops events before `before`, then the oldest beyond `keep_rows`.
  virtual StoreResult<std::size_t> prune_security_events(UnixTime before, std::size_t keep_rows) = 0;
  // Inserts or replaces the ban of ban.target.
  virtual StoreResult<void> put_ban(const BanRow& ban) = 0;
  // Bans whose `until` is after `after` (after = now: the active ones), by target.
  virtual StoreResult<std::vector<BanRow>> list_bans(UnixTime after) = 0;
  // Ends the active bans of these targets at `now`; returns those ended (as they were).
  virtual StoreResult<std::vector<BanRow>> lift_bans(std::span<const std::string> targets, UnixTime now) = 0;
  // Retention: forgets bans that ended before `before`. Returns the rows removed.
  virtual StoreResult<std::size_t> prune_bans(UnixTime before) = 0;

  // --- the built-in spam classifier (schema version 8; classifier_types.hpp)
  // Accounts compare case-insensitively; "" is the shared base (every account's lessons).
  // The totals of `account` and of the shared base, and the counts of those of `tokens`
  // either knows, in one read snapshot. At most 5000 tokens are looked up (the rest are
  // ignored).
  virtual StoreResult<ClassifierSnapshot> classifier_snapshot(std::string_view account,
                                                              std::span<const std::uint64_t> tokens) = 0;
  // One lesson in one transaction (not synced: a power cut may forget the last lessons):
  // each token's spam or ham count rises by one for the account and for the shared base,
  // and so do their lesson totals. At most 5000 tokens are taken.
  virtual StoreResult<void> record_classifier_lesson(const ClassifierLesson& lesson) = 0;
  // The account's totals and distinct tokens (`postamt classifier stats`).
  virtual StoreResult<ClassifierTotals> classifier_stats(std::string_view account) = 0;
  // The bound: drops at most `limit` tokens seen in one lesson only and last seen before
  // `seen_before` (of every account). Returns how many it dropped.
  virtual StoreResult<std::size_t> prune_classifier_tokens(UnixTime seen_before, std::size_t limit) = 0;

  // --- change notification
  // Called after every committed transaction that changed messages of mailboxes (append,
  // delivery, flags, expunge, copy/move, mailbox delete/rename, account delete), with the
  // ids of those mailboxes (ascending, each once), on the committing thread and after the
  // store's lock is released (the listener may call the store). Never for a failed transaction or
  // one that changed nothing. IMAP sessions use it to wake IDLE and to report other sessions'
  // changes. One listener (an empty function removes it); set it before serving. The
  // listener must not throw: the change is committed already, so an exception is logged
  // and dropped.
  using ChangeListener = std::function<void(std::span<const Id> mailbox_ids)>;
  virtual void set_change_listener(ChangeListener listener) = 0;

  // --- delivery (group commit)
  // Every item in ONE transaction (one fsync), each item all-or-nothing on its own: the
  // outcomes line up with the items, and a failing item does not fail the others. When
  // the commit itself fails, every outcome carries that error.
  // A message for an account whose quota it would exceed fails with Code::quota_exceeded.
  virtual std::vector<StoreResult<DeliveryOutcome>> commit_deliveries(
      std::span<const DeliveryItem> items) = 0;
};

}  // namespace postamt::storage
