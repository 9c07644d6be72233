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
  // write_unsynced: a write whose loss in a power cut or kernel crash is acceptable (flag
  //        changes; the mail itself never): committed without syncing the WAL
  //        (synchronous=NORMAL for this one transaction). A crash of the process loses
  //        nothing, the database stays consistent after a power cut, and the next synced
  //        commit makes it durable along with its own changes (the WAL is one sequence).
  //        Every other write sets synchronous=FULL again before it begins, and fails if it
  //        cannot: a delivery is never committed unsynced.
  enum class Mode { read, write, write_unsynced };

  static StoreResult<Transaction> begin(Database& db, Mode mode);

  Transaction(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  StoreResult<void> commit();

 private:
  Transaction(Database& db, bool unsynced) : db_(&db), unsynced_(unsynced) {}
  // After an unsynced transaction ended either way: synchronous=FULL again at once, so no
  // statement run outside a Transaction commits unsynced. Should that fail, the setting
  // stays recorded as unsynced and the next write's begin() sets it or fails.
  void resync();

  Database* db_ = nullptr;  // null once committed or moved from
  bool unsynced_ = false;
};

}  // namespace postamt::storage::sqlite
