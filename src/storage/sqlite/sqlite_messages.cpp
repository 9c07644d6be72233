// SqliteMailStore: messages: append, list, flags, expunge and the IMAP reads.
#include <limits>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

// --- MODSEQs and UIDs

StoreResult<std::uint64_t> SqliteMailStore::next_modseq_locked(Id mailbox_id) {
  return take_modseqs_locked(mailbox_id, 1);
}

StoreResult<std::uint64_t> SqliteMailStore::take_modseqs_locked(Id mailbox_id,
                                                                std::uint64_t count) {
  auto stmt = db_->prepare(
      "UPDATE mailboxes SET highestmodseq = highestmodseq + ?2 WHERE id = ?1 "
      "RETURNING highestmodseq - ?2 + 1");
  if (!stmt) return fail(stmt);
  return single(
      stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(count)),
      [](const Statement& s) { return static_cast<std::uint64_t>(s.column_int64(0)); },
      "The mailbox with id " + std::to_string(mailbox_id) + " does not exist.");
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::message_records(
    std::span<const NewMessage> messages) {
  std::vector<MessageRecord> records;
  records.reserve(messages.size());
  const UnixTime now = now_seconds();
  for (const NewMessage& message : messages) {
    if (!is_valid_blob_id(message.blob_id))
      return invalid("The blob id '" + message.blob_id + "' is not a lower-case hex SHA-256.");
    if (message.size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return invalid("The message size is too large.");
    auto flags = normalize_flags(message.flags);
    if (!flags) return invalid(flags.error());
    MessageRecord record;
    record.mailbox_id = message.mailbox_id;
    record.flags = std::move(*flags);
    record.internal_date = message.internal_date != 0 ? message.internal_date : now;
    record.size = message.size;
    record.blob_id = message.blob_id;
    record.mime_metadata = message.mime_metadata;
    records.push_back(std::move(record));
  }
  return records;
}

// Inside an open write transaction: assigns UIDs and MODSEQs and inserts the rows.
StoreResult<SqliteMailStore::AccountGrowth> SqliteMailStore::insert_messages_locked(
    std::vector<MessageRecord>& records) {
  AccountGrowth growth;
  for (MessageRecord& record : records) {
    {
      // UIDs are strictly ascending (RFC 9051 §2.3.1.1) and MODSEQs too (RFC 7162 §3.1):
      // take both from the mailbox row, which the write transaction has locked.
      auto stmt = db_->prepare(
          "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 "
          "WHERE id = ?1 AND uidnext < ?2 RETURNING uidnext - 1, highestmodseq, account_id");
      if (!stmt) return fail(stmt);
      auto row = stmt->bind(1, record.mailbox_id).bind(2, kMaxUid).step();
      if (!row) return fail(row);
      if (!*row) {
        auto found = require_mailbox_locked(record.mailbox_id);
        if (!found) return fail(found);
        return storage_error(
            Code::conflict,
            "The mailbox with id " + std::to_string(record.mailbox_id) + " has used up its UIDs.");
      }
      record.uid = static_cast<std::uint32_t>(stmt->column_int64(0));
      record.modseq = static_cast<std::uint64_t>(stmt->column_int64(1));
      add_growth(growth, stmt->column_int64(2), static_cast<std::int64_t>(record.size));
    }
    auto stmt = db_->prepare(
        "INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id, "
        "mime_metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, record.mailbox_id)
                    .bind(2, static_cast<std::int64_t>(record.uid))
                    .bind(3, static_cast<std::int64_t>(record.modseq))
                    .bind(4, join_flags(record.flags))
                    .bind(5, record.internal_date)
                    .bind(6, static_cast<std::int64_t>(record.size))
                    .bind(7, record.blob_id)
                    .bind_blob(8, record.mime_metadata)
                    .run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  return growth;
}

// --- append, list, flags, expunge

StoreResult<std::vector<MessageRecord>> SqliteMailStore::append_messages(
    std::span<const NewMessage> messages) {
  if (messages.empty()) return std::vector<MessageRecord>{};
  auto records = message_records(messages);
  if (!records) return fail(records);
  return locked_with_changes(
      [&](std::vector<Id>& changed) -> StoreResult<std::vector<MessageRecord>> {
        // One transaction, one WAL sync for the whole batch: either every message is
        // stored or none is (also when one of them does not fit into its quota).
        auto txn = Transaction::begin(*db_, Transaction::Mode::write);
        if (!txn) return fail(txn);
        auto growth = insert_messages_locked(*records);
        if (!growth) return fail(growth);
        if (auto fits = enforce_quota_locked(*growth); !fits) return fail(fits);
        auto committed = txn->commit();
        if (!committed) return fail(committed);
        for (const MessageRecord& record : *records) changed.push_back(record.mailbox_id);
        return std::move(*records);
      });
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::list_messages(Id mailbox_id) {
  static const std::string sql = "SELECT " + std::string(kMessageColumns) +
                                 " FROM messages WHERE mailbox_id = ?1 ORDER BY uid";
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  auto stmt = db_->prepare(sql);
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, mailbox_id), read_message);
}

StoreResult<void> SqliteMailStore::set_flags(Id mailbox_id, std::span<const std::uint32_t> uids,
                                             std::span<const std::string> flags) {
  auto normalized = normalize_flags(flags);
  if (!normalized) return invalid(normalized.error());
  const std::string text = join_flags(*normalized);
  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<void> {
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail(txn);
    auto found = require_mailbox_locked(mailbox_id);
    if (!found) return fail(found);
    bool any_change = false;
    for (const std::uint32_t uid : uids) {
      {
        // UIDs that are gone (expunged meanwhile) are skipped, as STORE does (RFC 9051
        // §6.4.6).
        auto stmt = db_->prepare("SELECT flags FROM messages WHERE mailbox_id = ?1 AND uid = ?2");
        if (!stmt) return fail(stmt);
        auto row = stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(uid)).step();
        if (!row) return fail(row);
        if (!*row || stmt->column_text(0) == text) continue;
      }
      // Only a real change takes a new MODSEQ (RFC 7162 §3.1.1).
      auto modseq = next_modseq_locked(mailbox_id);
      if (!modseq) return fail(modseq);
      auto stmt = db_->prepare(
          "UPDATE messages SET flags = ?3, modseq = ?4 WHERE mailbox_id = ?1 AND uid = ?2");
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, mailbox_id)
                      .bind(2, static_cast<std::int64_t>(uid))
                      .bind(3, text)
                      .bind(4, static_cast<std::int64_t>(*modseq))
                      .run();
      if (!done) return done;
      any_change = true;
    }
    auto committed = txn->commit();
    if (!committed) return committed;
    if (any_change) changed.push_back(mailbox_id);
    return {};
  });
}

// Inside an open write transaction. An expunge is a change of the mailbox that QRESYNC
// clients must see (RFC 7162 §3.2): HIGHESTMODSEQ moves on, and every removed UID is kept
// with that MODSEQ for VANISHED (EARLIER) (RFC 7162 §3.2.5.2).
StoreResult<std::vector<std::uint32_t>> SqliteMailStore::expunge_locked(
    Id mailbox_id, std::span<const std::uint32_t> uids) {
  std::vector<std::uint32_t> removed;
  for (const std::uint32_t uid : uids) {
    auto stmt = db_->prepare("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(uid)).run();
    if (!done) return fail(done);
    if (db_->changes() > 0) removed.push_back(uid);
  }
  if (removed.empty()) return removed;
  auto modseq = next_modseq_locked(mailbox_id);
  if (!modseq) return fail(modseq);
  for (const std::uint32_t uid : removed) {
    auto stmt = db_->prepare(
        "INSERT INTO expunged(mailbox_id, uid, modseq) VALUES (?1, ?2, ?3) "
        "ON CONFLICT DO UPDATE SET modseq = excluded.modseq");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, mailbox_id)
                    .bind(2, static_cast<std::int64_t>(uid))
                    .bind(3, static_cast<std::int64_t>(*modseq))
                    .run();
    if (!done) return fail(done);
  }
  return removed;
}

StoreResult<void> SqliteMailStore::expunge(Id mailbox_id, std::span<const std::uint32_t> uids) {
  const std::vector<std::uint32_t> wanted = sorted_unique(uids);
  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<void> {
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail(txn);
    auto found = require_mailbox_locked(mailbox_id);
    if (!found) return fail(found);
    auto removed = expunge_locked(mailbox_id, wanted);
    if (!removed) return fail(removed);
    if (removed->empty()) return {};  // nothing changed; the read-only transaction ends
    auto committed = txn->commit();
    if (!committed) return committed;
    changed.push_back(mailbox_id);
    return {};
  });
}

// --- IMAP reads

StoreResult<std::vector<MessageSummary>> SqliteMailStore::list_summaries(
    Id mailbox_id, std::uint64_t changed_since) {
  // Two statements so that each gets its own plan: the whole mailbox walks the UID index,
  // a CONDSTORE resync (RFC 7162 §3.1.4.1) the MODSEQ index.
  static const std::string all_sql = "SELECT " + std::string(kSummaryColumns) +
                                     " FROM messages WHERE mailbox_id = ?1 ORDER BY uid";
  static const std::string changed_sql =
      "SELECT " + std::string(kSummaryColumns) +
      " FROM messages WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid";
  const auto since = static_cast<std::int64_t>(
      std::min<std::uint64_t>(changed_since, std::numeric_limits<std::int64_t>::max()));
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  auto stmt = db_->prepare(changed_since == 0 ? all_sql : changed_sql);
  if (!stmt) return fail(stmt);
  stmt->bind(1, mailbox_id);
  if (changed_since != 0) stmt->bind(2, since);
  return collect(*stmt, read_summary);
}

StoreResult<std::vector<MessageSummary>> SqliteMailStore::list_summaries_after(
    Id mailbox_id, std::uint32_t after_uid) {
  static const std::string sql = "SELECT " + std::string(kSummaryColumns) +
                                 " FROM messages WHERE mailbox_id = ?1 AND uid > ?2 ORDER BY uid";
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  auto stmt = db_->prepare(sql);
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(after_uid)),
                 read_summary);
}

namespace {

// SELECT of `columns` (as read_message reads them) for a chunk of UIDs of one mailbox.
std::string select_messages_by_uid(std::string_view columns) {
  return "SELECT " + std::string(columns) + " FROM messages WHERE mailbox_id = ?1 AND uid IN (" +
         uid_chunk_placeholders() + ") ORDER BY uid";
}

}  // namespace

StoreResult<std::vector<MessageRecord>> SqliteMailStore::fetch_messages(
    Id mailbox_id, std::span<const std::uint32_t> uids) {
  static const std::string sql = select_messages_by_uid(kMessageColumns);
  return fetch_message_rows(sql, mailbox_id, uids);
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::fetch_message_blobs(
    Id mailbox_id, std::span<const std::uint32_t> uids) {
  // The metadata column is not read at all: the rows of a whole mailbox without it are a
  // fraction of the bytes.
  static const std::string sql = select_messages_by_uid(kMessageColumnsWithoutMetadata);
  return fetch_message_rows(sql, mailbox_id, uids);
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::fetch_message_rows(
    const std::string& sql, Id mailbox_id, std::span<const std::uint32_t> uids) {
  const std::vector<std::uint32_t> wanted = sorted_unique(uids);
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  return collect_by_uids(*db_, sql, mailbox_id, wanted, read_message);
}

StoreResult<std::vector<std::uint32_t>> SqliteMailStore::expunged_since(Id mailbox_id,
                                                                        std::uint64_t modseq) {
  const auto since = static_cast<std::int64_t>(
      std::min<std::uint64_t>(modseq, std::numeric_limits<std::int64_t>::max()));
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  auto stmt =
      db_->prepare("SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, mailbox_id).bind(2, since), read_uid);
}

}  // namespace postamt::storage
