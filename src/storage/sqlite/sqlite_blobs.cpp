// SqliteMailStore: blob reference counts (the files live in the BlobStore).
#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

// --- blobs

StoreResult<std::vector<std::string>> SqliteMailStore::unreferenced_blobs() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT id FROM blobs WHERE refcount = 0 ORDER BY id");
  if (!stmt) return fail(stmt);
  return collect(*stmt, [](const Statement& s) { return s.column_text(0); });
}

namespace {

enum class BlobRow { forgotten, referenced, absent };

StoreResult<void> check_blob_ids(std::span<const std::string> blob_ids) {
  for (const std::string& id : blob_ids)
    if (!is_valid_blob_id(id))
      return invalid("The blob id '" + id + "' is not a lower-case hex SHA-256.");
  return {};
}

// Inside the caller's write transaction: deletes the blob's row when nothing references
// it, and says what became of it.
StoreResult<BlobRow> forget_if_unreferenced(Database& db, const std::string& id) {
  {
    auto stmt = db.prepare("DELETE FROM blobs WHERE id = ?1 AND refcount = 0");
    if (!stmt) return std::unexpected(stmt.error());
    if (auto done = stmt->bind(1, id).run(); !done) return std::unexpected(done.error());
    if (db.changes() > 0) return BlobRow::forgotten;
  }
  auto stmt = db.prepare("SELECT 1 FROM blobs WHERE id = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  auto known = exists(stmt->bind(1, id));
  if (!known) return std::unexpected(known.error());
  return *known ? BlobRow::referenced : BlobRow::absent;
}

}  // namespace

StoreResult<void> SqliteMailStore::forget_blobs(std::span<const std::string> blob_ids) {
  if (auto valid = check_blob_ids(blob_ids); !valid) return valid;
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  std::vector<std::string> referenced;
  for (const std::string& id : blob_ids) {
    auto row = forget_if_unreferenced(*db_, id);
    if (!row) return std::unexpected(row.error());
    if (*row == BlobRow::referenced) referenced.push_back(id);  // absent: already forgotten
  }
  if (!referenced.empty()) {
    // A blob gained a reference after the caller listed it: the caller must not have
    // deleted its file, so say so loudly and forget nothing.
    std::string message = "Blobs are referenced again and were not forgotten:";
    for (const std::string& id : referenced) message.append(" ").append(id);
    return storage_error(Code::conflict, std::move(message));
  }
  return txn->commit();
}

StoreResult<std::vector<std::string>> SqliteMailStore::forget_unreferenced_blobs(
    std::span<const std::string> blob_ids) {
  if (auto valid = check_blob_ids(blob_ids); !valid) return std::unexpected(valid.error());
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  std::vector<std::string> removable;
  for (const std::string& id : blob_ids) {
    auto row = forget_if_unreferenced(*db_, id);
    if (!row) return std::unexpected(row.error());
    // absent: never committed, a refused message's file
    if (*row != BlobRow::referenced) removable.push_back(id);
  }
  if (auto committed = txn->commit(); !committed) return std::unexpected(committed.error());
  return removable;
}

StoreResult<bool> SqliteMailStore::blob_known(std::string_view blob_id) {
  if (!is_valid_blob_id(blob_id))
    return invalid("The blob id '" + std::string(blob_id) + "' is not a lower-case hex SHA-256.");
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT 1 FROM blobs WHERE id = ?1");
  if (!stmt) return fail(stmt);
  return exists(stmt->bind(1, blob_id));
}

}  // namespace postamt::storage
