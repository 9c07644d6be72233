// SqliteMailStore: the outbound queue.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

constexpr std::size_t kMaxEnvelopeFieldOctets = 1000;

StoreResult<void> validate_envelope_field(std::string_view value, std::string_view what) {
  if (value.size() > kMaxEnvelopeFieldOctets)
    return invalid("The " + std::string(what) + " is longer than 1000 octets.");
  // CR and LF in an envelope field would let it smuggle SMTP commands when relayed.
  if (has_control(value))
    return invalid("The " + std::string(what) + " holds a control character.");
  return {};
}

}  // namespace

// --- outbound queue

StoreResult<std::vector<QueueRecipient>> SqliteMailStore::queue_recipients_locked(Id message_id) {
  auto stmt = db_->prepare(
      "SELECT id, message_id, address, orcpt, notify, state, attempts, next_attempt_at, "
      "last_reply FROM queue_recipients WHERE message_id = ?1 ORDER BY id");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, message_id), read_queue_recipient);
}

StoreResult<void> SqliteMailStore::validate_queue_message(const QueueMessage& message) {
  if (!is_valid_blob_id(message.blob_id))
    return invalid("The blob id '" + message.blob_id + "' is not a lower-case hex SHA-256.");
  if (message.size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return invalid("The message size is too large.");
  if (auto ok = validate_envelope_field(message.sender, "sender"); !ok) return fail(ok);
  if (auto ok = validate_envelope_field(message.envid, "ENVID"); !ok) return fail(ok);
  if (auto ok = validate_envelope_field(message.account, "account"); !ok) return fail(ok);
  if (message.ret != "" && message.ret != "FULL" && message.ret != "HDRS")
    return invalid("RET must be FULL or HDRS (RFC 3461 §4.3).");
  if (message.recipients.empty()) return invalid("A queued message needs at least one recipient.");
  for (const QueueRecipient& recipient : message.recipients) {
    if (recipient.address.empty()) return invalid("A recipient address is empty.");
    if (auto ok = validate_envelope_field(recipient.address, "recipient address"); !ok)
      return fail(ok);
    if (auto ok = validate_envelope_field(recipient.orcpt, "ORCPT"); !ok) return fail(ok);
    if (auto ok = validate_envelope_field(recipient.notify, "NOTIFY"); !ok) return fail(ok);
  }

  return {};
}

// Inside an open write transaction: inserts the message and its recipients, filling ids.
StoreResult<void> SqliteMailStore::insert_queue_locked(QueueMessage& record) {
  if (record.created_at == 0) record.created_at = now_seconds();
  {
    auto stmt = db_->prepare(
        "INSERT INTO queue_messages(sender, blob_id, size, envid, ret, created_at, account) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, record.sender)
                    .bind(2, record.blob_id)
                    .bind(3, static_cast<std::int64_t>(record.size))
                    .bind(4, record.envid)
                    .bind(5, record.ret)
                    .bind(6, record.created_at)
                    .bind(7, record.account)
                    .run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  for (QueueRecipient& recipient : record.recipients) {
    recipient.message_id = record.id;
    auto stmt = db_->prepare(
        "INSERT INTO queue_recipients(message_id, address, orcpt, notify, state, attempts, "
        "next_attempt_at, last_reply) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, recipient.message_id)
                    .bind(2, recipient.address)
                    .bind(3, recipient.orcpt)
                    .bind(4, recipient.notify)
                    .bind(5, queue_state_name(recipient.state))
                    .bind(6, static_cast<std::int64_t>(recipient.attempts))
                    .bind(7, recipient.next_attempt_at)
                    .bind(8, recipient.last_reply)
                    .run();
    if (!done) return fail(done);
    recipient.id = db_->last_insert_rowid();
  }
  return {};
}

StoreResult<QueueMessage> SqliteMailStore::enqueue(const QueueMessage& message) {
  if (auto ok = validate_queue_message(message); !ok) return fail(ok);
  QueueMessage record = message;
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  if (auto inserted = insert_queue_locked(record); !inserted) return fail(inserted);
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return record;
}

StoreResult<std::vector<QueueMessage>> SqliteMailStore::list_queue() {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  std::vector<QueueMessage> messages;
  {
    auto stmt = db_->prepare(
        "SELECT id, sender, blob_id, size, envid, ret, created_at, account FROM queue_messages "
        "ORDER BY id");
    if (!stmt) return fail(stmt);
    auto rows = collect(*stmt, read_queue_message);
    if (!rows) return fail(rows);
    messages = std::move(*rows);
  }
  std::unordered_map<Id, std::size_t> index;
  for (std::size_t i = 0; i < messages.size(); ++i) index.emplace(messages[i].id, i);
  auto stmt = db_->prepare(
      "SELECT id, message_id, address, orcpt, notify, state, attempts, next_attempt_at, "
      "last_reply FROM queue_recipients ORDER BY message_id, id");
  if (!stmt) return fail(stmt);
  auto recipients = collect(*stmt, read_queue_recipient);
  if (!recipients) return fail(recipients);
  for (QueueRecipient& recipient : *recipients) {
    const auto it = index.find(recipient.message_id);
    if (it != index.end()) messages[it->second].recipients.push_back(std::move(recipient));
  }
  return messages;
}

StoreResult<QueueMessage> SqliteMailStore::find_queued(Id message_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  StoreResult<QueueMessage> message = std::unexpected(StorageError{});
  {
    auto stmt = db_->prepare(
        "SELECT id, sender, blob_id, size, envid, ret, created_at, account FROM queue_messages "
        "WHERE id = ?1");
    if (!stmt) return fail(stmt);
    message = single(stmt->bind(1, message_id), read_queue_message,
                     "The queued message " + std::to_string(message_id) + " does not exist.");
    if (!message) return message;
  }
  auto recipients = queue_recipients_locked(message_id);
  if (!recipients) return fail(recipients);
  message->recipients = std::move(*recipients);
  return message;
}

StoreResult<void> SqliteMailStore::update_recipient(const QueueRecipient& recipient) {
  if (recipient.last_reply.find('\0') != std::string::npos)
    return invalid("The last reply holds a NUL octet.");
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  {
    // A non-zero message_id must match too, so a stale id cannot touch another message.
    // An operator's hold outlives an attempt that was in flight when it was set: only a
    // final outcome replaces it.
    auto stmt = db_->prepare(
        "UPDATE queue_recipients SET "
        "state = CASE WHEN state = 'held' AND ?3 NOT IN ('delivered', 'bounced') "
        "THEN 'held' ELSE ?3 END, "
        "attempts = ?4, next_attempt_at = ?5, last_reply = ?6 "
        "WHERE id = ?1 AND (?2 = 0 OR message_id = ?2)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, recipient.id)
                    .bind(2, recipient.message_id)
                    .bind(3, queue_state_name(recipient.state))
                    .bind(4, static_cast<std::int64_t>(recipient.attempts))
                    .bind(5, recipient.next_attempt_at)
                    .bind(6, recipient.last_reply)
                    .run();
    if (!done) return done;
    if (db_->changes() == 0)
      return storage_error(Code::not_found, "The queue recipient " +
                                                std::to_string(recipient.id) +
                                                " does not exist.");
  }
  if (recipient.state == QueueState::delivered || recipient.state == QueueState::bounced) {
    // The submitting account's outcomes, for the bounce signal (issue 15 §6); counted
    // before the message row may go below.
    auto stmt = db_->prepare(
        "INSERT INTO outbound_hours(account, hour, delivered, bounced) "
        "SELECT m.account, ?2, ?3, ?4 FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id "
        "WHERE r.id = ?1 AND m.account <> '' "
        "ON CONFLICT(account, hour) DO UPDATE SET delivered = delivered + excluded.delivered, "
        "bounced = bounced + excluded.bounced");
    if (!stmt) return fail(stmt);
    const bool delivered = recipient.state == QueueState::delivered;
    auto done = stmt->bind(1, recipient.id)
                    .bind(2, now_seconds() / 3600 * 3600)
                    .bind(3, std::int64_t{delivered ? 1 : 0})
                    .bind(4, std::int64_t{delivered ? 0 : 1})
                    .run();
    if (!done) return done;
  }
  {
    // The message leaves the queue with its last pending recipient; the delete trigger
    // drops its blob reference.
    auto stmt = db_->prepare(
        "DELETE FROM queue_messages "
        "WHERE id = (SELECT message_id FROM queue_recipients WHERE id = ?1) "
        "AND NOT EXISTS (SELECT 1 FROM queue_recipients "
        "WHERE message_id = queue_messages.id AND state IN ('queued', 'deferred', 'held'))");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, recipient.id).run(); !done) return done;
  }
  return txn->commit();
}

StoreResult<void> SqliteMailStore::delete_queued(Id message_id) {
  std::lock_guard lock(mutex_);
  // Recipients go by ON DELETE CASCADE; the trigger drops the blob reference.
  auto stmt = db_->prepare("DELETE FROM queue_messages WHERE id = ?1");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, message_id).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found,
                         "The queued message " + std::to_string(message_id) + " does not exist.");
  return {};
}

StoreResult<std::vector<QueueMessage>> SqliteMailStore::due_queue(UnixTime now,
                                                                  std::size_t limit) {
  std::vector<QueueMessage> messages;
  if (limit == 0) return messages;
  const auto bounded_limit = static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  {
    // The queue_recipients_due index (state, next_attempt_at) finds the due rows.
    auto stmt = db_->prepare(
        "SELECT m.id, m.sender, m.blob_id, m.size, m.envid, m.ret, m.created_at, m.account "
        "FROM queue_messages m JOIN ("
        "SELECT message_id, min(next_attempt_at) AS due FROM queue_recipients "
        "WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ?1 "
        "GROUP BY message_id) d ON d.message_id = m.id "
        // A held account's mail waits where it is (schema version 6).
        "WHERE m.account = '' OR NOT EXISTS (SELECT 1 FROM account_holds h WHERE h.account = m.account) "
        "ORDER BY d.due, m.id LIMIT ?2");
    if (!stmt) return fail(stmt);
    auto rows = collect(stmt->bind(1, now).bind(2, bounded_limit), read_queue_message);
    if (!rows) return fail(rows);
    messages = std::move(*rows);
  }
  for (QueueMessage& message : messages) {
    auto stmt = db_->prepare(
        "SELECT id, message_id, address, orcpt, notify, state, attempts, next_attempt_at, "
        "last_reply FROM queue_recipients "
        "WHERE message_id = ?1 AND state IN ('queued', 'deferred') AND next_attempt_at <= ?2 "
        "ORDER BY id");
    if (!stmt) return fail(stmt);
    auto recipients = collect(stmt->bind(1, message.id).bind(2, now), read_queue_recipient);
    if (!recipients) return fail(recipients);
    message.recipients = std::move(*recipients);
  }
  return messages;
}

}  // namespace postamt::storage
