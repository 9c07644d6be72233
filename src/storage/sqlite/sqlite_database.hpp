#pragma once
// Database: one SQLite connection with the pragmas Postamt relies on and a cache of
// prepared statements. Not thread-safe by itself; SqliteMailStore serialises access.
// Internal to the SQLite backend.
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/api/storage_error.hpp"
#include "storage/sqlite/sqlite_statement.hpp"

namespace postamt::storage::sqlite {

class Database {
 public:
  // Opens (creating when absent) the database file and sets WAL mode, synchronous=FULL,
  // foreign keys and a busy timeout. Throws std::runtime_error when any of that fails:
  // this runs at start-up.
  explicit Database(const std::filesystem::path& file);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() = default;

  // A statement from the cache, prepared on first use and reset (bindings cleared) when
  // the returned Statement goes out of scope. The cache is keyed by the SQL text, which
  // the store only ever takes from constants, so it stays small. While a cached statement
  // is in use (a nested call with the same SQL), a private copy is prepared instead.
  StoreResult<Statement> prepare(std::string_view sql);
  // Runs one statement without parameters through the cache (BEGIN, COMMIT, SAVEPOINT:
  // the calls every write transaction makes).
  StoreResult<void> run(std::string_view sql);
  // Runs SQL without parameters (may hold several statements); not cached.
  StoreResult<void> exec(const std::string& sql);

  std::int64_t last_insert_rowid() const;
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  std::int64_t changes() const;
  sqlite3* handle() const { return db_.get(); }

  // How long a statement waits for another process's write lock before SQLITE_BUSY.
  static constexpr int kBusyTimeoutMs = 5000;
  void set_busy_timeout(int milliseconds);

  // Whether the next commit syncs the WAL (synchronous=FULL, the default) or not (NORMAL).
  // Only between transactions. Runs the PRAGMA only when the setting changes.
  StoreResult<void> set_synced_commits(bool synced);

 private:
  bool synced_commits_ = true;
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  struct CachedStatement {
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt;
    bool in_use = false;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  // Declared before the cache so that it is destroyed after it: statements are finalized
  // before the connection closes, also when the constructor throws.
  std::unique_ptr<sqlite3, Closer> db_;
  std::unordered_map<std::string, CachedStatement, StringHash, std::equal_to<>> cache_;
};

}  // namespace postamt::storage::sqlite
