#include "storage/sqlite/sqlite_error.hpp"

#include <sqlite3.h>

#include <string>

namespace postamt::storage::sqlite {

StorageError make_error(sqlite3* db, int rc, std::string_view context) {
  StorageError::Code code = StorageError::Code::io;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = StorageError::Code::busy;
      break;
    case SQLITE_CONSTRAINT:
      code = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                 ? StorageError::Code::already_exists
                 : StorageError::Code::conflict;
      break;
    default:
      break;
  }
  // sqlite3_errmsg describes the most recent failure on the connection; the store holds
  // its mutex across the failing call and this one, so it belongs to `rc`.
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message(context);
  message.append(": SQLite error ")
      .append(std::to_string(rc))
      .append(" (")
      .append(detail)
      .append(")");
  return StorageError{code, std::move(message)};
}

}  // namespace postamt::storage::sqlite
