#pragma once
// The versioned schema of the SQLite index. Migrations are applied in order, each in its
// own transaction together with the PRAGMA user_version that records it, so a crash
// between two steps leaves a database at a well-defined version. Internal to the backend.
#include <span>
#include <string_view>

#include "storage/api/storage_error.hpp"

namespace postamt::storage::sqlite {

class Database;

// Migration i (0-based) takes the schema from version i to version i+1.
std::span<const std::string_view> schema_migrations();

// Applies the missing migrations; returns the resulting version. A database written by a
// newer Postamt (user_version beyond the known migrations) is refused (invalid).
StoreResult<int> migrate(Database& db);

}  // namespace postamt::storage::sqlite
