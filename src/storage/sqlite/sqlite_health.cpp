// SqliteMailStore: what /healthz asks of the index.
#include "storage/sqlite/sqlite_mail_store.hpp"

#include <chrono>
#include <mutex>
#include <string>

#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

// /healthz answers within its client's patience: the probe waits at most this long for
// the store (another call may hold it through its own busy wait) and for SQLite's write
// lock (another process's transaction), then calls the index not writable.
constexpr auto kProbeStoreWait = std::chrono::seconds(2);
constexpr int kProbeBusyTimeoutMs = 1000;

// The store's mutex for a probe, or busy once kProbeStoreWait has passed.
StoreResult<std::unique_lock<std::timed_mutex>> lock_for_probe(std::timed_mutex& mutex) {
  std::unique_lock lock(mutex, kProbeStoreWait);
  if (!lock.owns_lock())
    return storage_error(StorageError::Code::busy,
                         "the store stayed busy for " + std::to_string(kProbeStoreWait.count()) + " s");
  return lock;
}

}  // namespace

StoreResult<void> SqliteMailStore::probe_write() {
  auto lock = lock_for_probe(mutex_);
  if (!lock) return std::unexpected(lock.error());
  db_->set_busy_timeout(kProbeBusyTimeoutMs);
  struct RestoreBusyTimeout {
    Database& db;
    ~RestoreBusyTimeout() { db.set_busy_timeout(Database::kBusyTimeoutMs); }
  } restore{*db_};
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto stmt = db_->prepare(
      "INSERT INTO meta(key, value) VALUES ('health_probe', ?1) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return fail(stmt);
  if (auto done = stmt->bind(1, static_cast<std::int64_t>(now_seconds())).run(); !done) return done;
  return txn->commit();
}

StoreResult<std::vector<BlobUse>> SqliteMailStore::sample_blob_uses(std::size_t limit) {
  auto lock = lock_for_probe(mutex_);
  if (!lock) return std::unexpected(lock.error());
  // From a random row id on (an index range, not a scan); the newest rows when it lands
  // past the end. The reference count is recounted for each blob: messages by their
  // blob index, the queue (small) as it is.
  auto stmt = db_->prepare(
      "WITH picked AS ("
      "  SELECT blob_id, size FROM (SELECT blob_id, size FROM messages"
      "    WHERE id >= (SELECT abs(random()) % (coalesce(max(id), 0) + 1) FROM messages)"
      "    ORDER BY id LIMIT ?1)"
      "  UNION ALL"
      "  SELECT blob_id, size FROM (SELECT blob_id, size FROM messages ORDER BY id DESC LIMIT ?1)"
      "  UNION ALL"
      "  SELECT blob_id, size FROM (SELECT blob_id, size FROM queue_messages ORDER BY id DESC LIMIT ?1))"
      "SELECT p.blob_id, p.size, coalesce(b.refcount, -1),"
      "  (SELECT count(*) FROM messages m WHERE m.blob_id = p.blob_id) +"
      "  (SELECT count(*) FROM queue_messages q WHERE q.blob_id = p.blob_id)"
      " FROM picked p LEFT JOIN blobs b ON b.id = p.blob_id");
  if (!stmt) return fail(stmt);
  stmt->bind(1, static_cast<std::int64_t>(limit));
  return collect(*stmt, [](const Statement& s) {
    return BlobUse{s.column_text(0), static_cast<std::uint64_t>(s.column_int64(1)), s.column_int64(2),
                   s.column_int64(3)};
  });
}

}  // namespace postamt::storage
