#pragma once
// Statement: one use of a prepared SQLite statement. It borrows a statement from the
// Database's cache (or owns a one-off copy when the cached one is already in use) and,
// when it goes out of scope, resets it and clears its bindings so the next user starts
// clean and no read snapshot stays open. Internal to the SQLite backend.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/api/storage_error.hpp"

namespace postamt::storage::sqlite {

class Statement {
 public:
  // `in_use` points at the cache's busy flag (cleared on destruction); null for a
  // statement this object owns and finalizes.
  Statement(sqlite3_stmt* stmt, bool* in_use) noexcept;
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. A failed bind is remembered and reported by the
  // next step(), so call sites can chain binds without checking each one.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);

  // true: a row is available; false: the statement is done.
  StoreResult<bool> step();
  // Runs the statement to completion, ignoring any rows.
  StoreResult<void> run();

  std::int64_t column_int64(int index) const;
  std::string column_text(int index) const;
  std::string column_blob(int index) const;

 private:
  StorageError error(int rc) const;

  sqlite3_stmt* stmt_ = nullptr;
  bool* in_use_ = nullptr;
  int bind_rc_ = SQLITE_OK;
};

}  // namespace postamt::storage::sqlite
