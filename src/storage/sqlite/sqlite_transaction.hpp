#pragma once
// Transaction: RAII guard over BEGIN ... COMMIT. Rolls back when destroyed uncommitted,
// so every early error return undoes the partial work. Internal to the SQLite backend.
#include "storage/api/storage_error.hpp"

namespace postamt::storage::sqlite {

class Database;

class Transaction {
 public:
  // write: BEGIN IMMEDIATE takes the write lock up front, so a writer never fails half-way
  //        with SQLITE_BUSY on lock upgrade (another process, e.g. the CLI, may write too).
  // read:  BEGIN (deferred) gives several SELECTs one consistent snapshot.
  enum class Mode { read, write };

  static StoreResult<Transaction> begin(Database& db, Mode mode);

  Transaction(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  StoreResult<void> commit();

 private:
  explicit Transaction(Database& db) : db_(&db) {}

  Database* db_ = nullptr;  // null once committed or moved from
};

}  // namespace postamt::storage::sqlite
