#pragma once
// Mapping of SQLite result codes onto StorageError. Internal to the SQLite backend.
#include <string_view>

#include "storage/api/storage_error.hpp"

struct sqlite3;

namespace postamt::storage::sqlite {

// BUSY/LOCKED -> busy (retry may help); UNIQUE/PRIMARY KEY -> already_exists; other
// constraint failures (foreign key, CHECK, NOT NULL) -> conflict; everything else -> io.
// `db` may be null; then only the generic text of `rc` is used.
StorageError make_error(sqlite3* db, int rc, std::string_view context);

}  // namespace postamt::storage::sqlite
