#include "storage/sqlite/sqlite_transaction.hpp"

#include <utility>

#include "storage/sqlite/sqlite_database.hpp"

namespace postamt::storage::sqlite {

StoreResult<Transaction> Transaction::begin(Database& db, Mode mode) {
  // The setting applies to the commit that follows; it can only change between transactions.
  if (mode != Mode::read) {
    auto set = db.set_synced_commits(mode == Mode::write);
    if (!set) return std::unexpected(std::move(set.error()));
  }
  auto begun = db.run(mode == Mode::read ? "BEGIN" : "BEGIN IMMEDIATE");
  if (!begun) return std::unexpected(std::move(begun.error()));
  return Transaction(db, mode == Mode::write_unsynced);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), unsynced_(std::exchange(other.unsynced_, false)) {}

void Transaction::resync() {
  if (unsynced_) (void)db_->set_synced_commits(true);  // on failure: see the header
  unsynced_ = false;
}

Transaction::~Transaction() {
  // A failed statement may already have ended the transaction (SQLite rolls back on some
  // errors, e.g. SQLITE_FULL); only roll back what is still open. The error that caused
  // the rollback has been returned to the caller already.
  if (db_ == nullptr) return;
  if (sqlite3_get_autocommit(db_->handle()) == 0) (void)db_->run("ROLLBACK");
  resync();
}

StoreResult<void> Transaction::commit() {
  if (db_ == nullptr) return storage_error(StorageError::Code::io, "transaction already ended");
  auto committed = db_->run("COMMIT");
  if (!committed) return committed;  // still open (e.g. busy): the destructor rolls back
  resync();
  db_ = nullptr;
  return {};
}

}  // namespace postamt::storage::sqlite
