// SqliteMailStore: the operator's actions on the outbound queue (`postamt queue flush`,
// `hold`, `release`) and its counters. They change rows only; the running server's
// scheduler sees the change when it next reads the queue.
#include <optional>
#include <string>
#include <string_view>

#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

StoreResult<void> SqliteMailStore::require_queued_locked(Id message_id) {
  auto stmt = db_->prepare("SELECT 1 FROM queue_messages WHERE id = ?1");
  if (!stmt) return fail(stmt);
  auto found = exists(stmt->bind(1, message_id));
  if (!found) return fail(found);
  if (!*found)
    return storage_error(Code::not_found,
                         "The queued message " + std::to_string(message_id) + " does not exist.");
  return {};
}

// Runs `sql` (?1 = the message id, 0 for every message; ?2 = `now` when given) in one
// write transaction, after checking that a given message exists; returns how many
// recipient rows it changed.
StoreResult<std::size_t> SqliteMailStore::change_recipients(std::string_view sql, Id message_id,
                                                            std::optional<UnixTime> now) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  if (message_id != 0) {
    if (auto found = require_queued_locked(message_id); !found) return fail(found);
  }
  auto stmt = db_->prepare(sql);
  if (!stmt) return fail(stmt);
  stmt->bind(1, message_id);
  if (now) stmt->bind(2, *now);
  if (auto done = stmt->run(); !done) return fail(done);
  const auto changed = static_cast<std::size_t>(db_->changes());
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return changed;
}

StoreResult<std::size_t> SqliteMailStore::flush_queue(std::optional<Id> message_id,
                                                      UnixTime now) {
  if (message_id && *message_id == 0)
    return storage_error(Code::not_found, "The queued message 0 does not exist.");
  // min() keeps a recipient that was due earlier at its place in the line.
  return change_recipients(
      "UPDATE queue_recipients SET next_attempt_at = min(next_attempt_at, ?2) "
      "WHERE state IN ('queued', 'deferred') AND (?1 = 0 OR message_id = ?1)",
      message_id.value_or(0), now);
}

StoreResult<std::size_t> SqliteMailStore::hold_queued(Id message_id) {
  if (message_id == 0)
    return storage_error(Code::not_found, "The queued message 0 does not exist.");
  return change_recipients(
      "UPDATE queue_recipients SET state = 'held' "
      "WHERE message_id = ?1 AND state IN ('queued', 'deferred')",
      message_id, std::nullopt);
}

StoreResult<std::size_t> SqliteMailStore::release_queued(Id message_id, UnixTime now) {
  if (message_id == 0)
    return storage_error(Code::not_found, "The queued message 0 does not exist.");
  return change_recipients(
      "UPDATE queue_recipients SET state = 'queued', next_attempt_at = ?2 "
      "WHERE message_id = ?1 AND state = 'held'",
      message_id, now);
}

StoreResult<QueueCounts> SqliteMailStore::queue_counts() {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  QueueCounts counts;
  {
    auto stmt = db_->prepare(
        "SELECT state, count(*) FROM queue_recipients "
        "WHERE state IN ('queued', 'deferred', 'held') GROUP BY state");
    if (!stmt) return fail(stmt);
    while (true) {
      auto row = stmt->step();
      if (!row) return fail(row);
      if (!*row) break;
      const auto count = static_cast<std::uint64_t>(stmt->column_int64(1));
      switch (queue_state_from_name(stmt->column_text(0))) {
        case QueueState::queued:
          counts.queued = count;
          break;
        case QueueState::deferred:
          counts.deferred = count;
          break;
        case QueueState::held:
          counts.held = count;
          break;
        case QueueState::delivered:
        case QueueState::bounced:
          break;
      }
    }
  }
  auto stmt = db_->prepare(
      "SELECT count(DISTINCT message_id) FROM queue_recipients "
      "WHERE state IN ('queued', 'deferred', 'held')");
  if (!stmt) return fail(stmt);
  auto row = stmt->step();
  if (!row) return fail(row);
  if (*row) counts.messages = static_cast<std::uint64_t>(stmt->column_int64(0));
  return counts;
}

}  // namespace postamt::storage
