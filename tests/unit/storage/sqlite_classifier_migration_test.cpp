// The SQLite upgrade to the classifier's schema version (issue 15 §5): a database of the
// version before gets empty classifier tables and keeps its data.
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

TEST(SqliteClassifierMigration, PreviousVersionGetsEmptyClassifierTables) {
  TempDir dir;
  // Every migration but the last (the classifier's, appended last).
  const std::size_t before = sqlite::schema_migrations().size() - 1;
  std::string sql;
  for (std::size_t v = 0; v < before; ++v) sql += std::string(sqlite::schema_migrations()[v]);
  sql += "PRAGMA user_version = " + std::to_string(before) + ";\n"
         "INSERT INTO account_holds(account, reason, detail, held_at) VALUES ('alice@example.com', 'burst', '', 5);\n";
  exec_sql(dir.path() / "index.sqlite3", sql);

  auto store = open_sqlite_store(dir.path());
  ASSERT_EQ(store->schema_version(), static_cast<int>(sqlite::schema_migrations().size()));
  auto holds = store->list_account_holds();
  ASSERT_TRUE(holds);
  EXPECT_EQ(holds->size(), 1u) << "the older tables keep their rows";
  auto stats = store->classifier_stats("alice@example.com");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->spam + stats->ham + stats->tokens, 0u);
  ASSERT_TRUE(store->record_classifier_lesson({"alice@example.com", true, {42}, 100}));
  EXPECT_EQ(store->classifier_stats("alice@example.com")->spam, 1u);
}

}  // namespace
}  // namespace postamt::storage::test
