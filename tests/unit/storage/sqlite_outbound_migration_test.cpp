// The SQLite upgrade to schema version 6 (per-account outbound limits and holds): queue
// entries of a version 5 database belong to no account and stay due.
#include <sqlite3.h>
#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_schema.hpp"
#include "temp_dir.hpp"

namespace postamt::storage::test {
namespace {

void exec_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteOutboundMigration, Version5QueueEntriesBelongToNoAccountAndStayDue) {
  TempDir dir;
  std::string sql;
  for (int v = 0; v < 5; ++v) sql += std::string(sqlite::schema_migrations()[static_cast<std::size_t>(v)]);
  const std::string blob(64, 'a');
  sql += "PRAGMA user_version = 5;\n"
         "INSERT INTO queue_messages(id, sender, blob_id, size, created_at) VALUES (1, 'alice@example.com', '" +
         blob + "', 10, 100);\n"
         "INSERT INTO queue_recipients(message_id, address, state, next_attempt_at) "
         "VALUES (1, 'x@remote.test', 'queued', 0);\n";
  exec_sql(dir.path() / "index.sqlite3", sql);

  auto store = open_sqlite_store(dir.path());
  ASSERT_EQ(store->schema_version(), static_cast<int>(sqlite::schema_migrations().size()));
  ASSERT_TRUE(store->hold_account(AccountHold{"alice@example.com", "burst", "", 50, 0}));
  auto due = store->due_queue(200, 10);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u) << "mail queued before version 6 has no account to be held by";
  EXPECT_EQ((*due)[0].account, "");
}

}  // namespace
}  // namespace postamt::storage::test
