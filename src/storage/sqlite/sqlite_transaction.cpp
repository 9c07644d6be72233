#include "storage/sqlite/sqlite_transaction.hpp"

#include <utility>

#include "storage/sqlite/sqlite_database.hpp"

namespace postamt::storage::sqlite {

StoreResult<Transaction> Transaction::begin(Database& db, Mode mode) {
  auto begun = db.run(mode == Mode::write ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begun) return std::unexpected(std::move(begun.error()));
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  // A failed statement may already have ended the transaction (SQLite rolls back on some
  // errors, e.g. SQLITE_FULL); only roll back what is still open. The error that caused
  // the rollback has been returned to the caller already.
  if (db_ != nullptr && sqlite3_get_autocommit(db_->handle()) == 0) (void)db_->run("ROLLBACK");
}

StoreResult<void> Transaction::commit() {
  if (db_ == nullptr) return storage_error(StorageError::Code::io, "transaction already ended");
  auto committed = db_->run("COMMIT");
  if (!committed) return committed;  // still open (e.g. busy): the destructor rolls back
  db_ = nullptr;
  return {};
}

}  // namespace postamt::storage::sqlite
