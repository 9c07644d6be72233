#include "storage/sqlite/sqlite_database.hpp"

#include <limits>
#include <stdexcept>

#include "storage/sqlite/sqlite_error.hpp"

namespace postamt::storage::sqlite {
namespace {

std::string open_failure(const std::filesystem::path& file, std::string_view what,
                         std::string_view detail) {
  return "cannot open the index database " + file.string() + ": " + std::string(what) + ": " +
         std::string(detail);
}

}  // namespace

Database::Database(const std::filesystem::path& file) {
  // The store serialises every call under its own mutex, so SQLite's mutexes are not
  // needed; extended result codes tell UNIQUE apart from other constraint failures. A
  // link planted as the database is refused, never followed (least privilege).
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
                    SQLITE_OPEN_NOFOLLOW;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  db_.reset(db);  // sqlite3_open_v2 may allocate a handle even when it fails
  if (rc != SQLITE_OK)
    throw std::runtime_error(
        open_failure(file, "open", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);

  // journal_mode answers with the mode in effect; anything but "wal" means the file
  // system or a read-only file refused it, and the durability reasoning would not hold.
  std::string journal;
  std::string failure;
  {
    auto mode = prepare("PRAGMA journal_mode=WAL");
    auto row = mode ? mode->step() : StoreResult<bool>(std::unexpected(mode.error()));
    if (!row)
      failure = row.error().message;
    else if (*row)
      journal = mode->column_text(0);
  }
  if (failure.empty() && journal != "wal") failure = "the journal mode is '" + journal + "'";
  if (!failure.empty()) throw std::runtime_error(open_failure(file, "journal_mode=WAL", failure));

  // synchronous=FULL: in WAL mode every commit syncs the WAL, so a committed transaction
  // survives power loss (the durability promise of DESIGN.md "Storage"). trusted_schema=OFF
  // keeps a tampered schema from running functions with side effects. Reads go through a
  // memory map of the database file and a 16 MiB page cache: the message rows (with their
  // envelopes and body structures) of busy mailboxes are read again and again, and a read
  // system call per page costs more than the lookup itself.
  auto pragmas =
      exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF; "
           "PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384;");
  if (!pragmas) throw std::runtime_error(open_failure(file, "pragmas", pragmas.error().message));
}

void Database::set_busy_timeout(int milliseconds) { sqlite3_busy_timeout(db_.get(), milliseconds); }

StoreResult<void> Database::set_synced_commits(bool synced) {
  if (synced == synced_commits_) return {};
  auto set = run(synced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  if (!set) return set;
  synced_commits_ = synced;
  return {};
}

StoreResult<Statement> Database::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      return storage_error(StorageError::Code::invalid, "SQL text too long");
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(make_error(db_.get(), rc, "prepare"));
    it = cache_.emplace(std::string(sql), CachedStatement{}).first;
    it->second.stmt.reset(stmt);
  }
  if (it->second.in_use) {
    // Nested use of the same SQL: hand out a private copy instead of clobbering the
    // statement an outer caller is still stepping.
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(make_error(db_.get(), rc, "prepare"));
    return Statement(stmt, nullptr);
  }
  it->second.in_use = true;
  return Statement(it->second.stmt.get(), &it->second.in_use);
}

StoreResult<void> Database::run(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return std::unexpected(std::move(stmt.error()));
  return stmt->run();
}

StoreResult<void> Database::exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string context = "exec";
  if (message != nullptr) {
    context.append(" (").append(message).append(")");
    sqlite3_free(message);
  }
  return std::unexpected(make_error(db_.get(), rc, context));
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

std::int64_t Database::changes() const { return sqlite3_changes64(db_.get()); }

}  // namespace postamt::storage::sqlite
