// The SQLite upgrade to schema version 7 (security events and bans, issue 15 §7/§8): a
// version 6 database keeps its rows and gains the two tables; then events and bans round-
// trip, are pruned, and an unban ends a ban but keeps its offence count.
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

// The version 6 schema with one hold in it.
void write_version6(const std::filesystem::path& dir) {
  std::string sql;
  for (int v = 0; v < 6; ++v) sql += std::string(sqlite::schema_migrations()[static_cast<std::size_t>(v)]);
  sql += "PRAGMA user_version = 6;\n"
         "INSERT INTO account_holds(account, reason, detail, held_at) VALUES ('alice@example.com', 'burst', '', 50);\n";
  exec_sql(dir / "index.sqlite3", sql);
}

TEST(SqliteSecurityMigration, Version6GainsEventsAndBansAndKeepsItsRows) {
  TempDir dir;
  write_version6(dir.path());
  auto store = open_sqlite_store(dir.path());
  ASSERT_GE(store->schema_version(), 7);
  auto holds = store->list_account_holds();
  ASSERT_TRUE(holds);
  ASSERT_EQ(holds->size(), 1u);
  auto events = store->security_events({});
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_TRUE(events->empty());
  auto bans = store->list_bans(0);
  ASSERT_TRUE(bans);
  EXPECT_TRUE(bans->empty());
}

TEST(SqliteSecurityStore, EventsAreFilteredNewestKeptAndPruned) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path());
  std::vector<SecurityEventRow> rows;
  for (int i = 0; i < 10; ++i) {
    rows.push_back({0, 100 + i, i % 2 ? "auth_failure" : "ban", "192.0.2.7", i < 5 ? "Alice@example.com" : "",
                    "imap", "{\"n\":\"" + std::to_string(i) + "\"}"});
  }
  rows[3].account = "bad\naccount";  // controls never reach a row
  ASSERT_TRUE(store->add_security_events(rows));
  auto all = store->security_events({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 10u);
  EXPECT_EQ(all->front().at, 100);  // oldest first
  EXPECT_EQ((*all)[3].account, "bad?account");
  SecurityEventQuery query;
  query.kind = "auth_failure";
  query.account = "alice@EXAMPLE.com";
  auto failures = store->security_events(query);
  ASSERT_TRUE(failures);
  ASSERT_EQ(failures->size(), 1u);  // 1 and 3, but 3 holds another account now
  EXPECT_EQ(failures->front().fields, "{\"n\":\"1\"}");
  query = {};
  query.since = 105;
  query.limit = 2;
  auto newest = store->security_events(query);
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].at, 108);
  EXPECT_EQ((*newest)[1].at, 109);
  auto pruned = store->prune_security_events(102, 5);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 5u);  // two by age, three beyond the cap
  auto left = store->security_events({});
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 5u);
  EXPECT_EQ(left->front().at, 105);
}

TEST(SqliteSecurityStore, BansAreListedLiftedAndPruned) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path());
  ASSERT_TRUE(store->put_ban({"192.0.2.7", "auth_failures", "10 failures", 1000, 5000, 1}));
  ASSERT_TRUE(store->put_ban({"198.51.100.0/24", "recipient_probe", "", 1000, 1500, 2}));
  auto active = store->list_bans(2000);
  ASSERT_TRUE(active);
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().target, "192.0.2.7");
  const std::vector<std::string> targets = {"192.0.2.7", "203.0.113.1"};
  auto lifted = store->lift_bans(targets, 2000);
  ASSERT_TRUE(lifted);
  ASSERT_EQ(lifted->size(), 1u);
  EXPECT_EQ(lifted->front().until, 5000);
  active = store->list_bans(2000);
  ASSERT_TRUE(active);
  EXPECT_TRUE(active->empty());
  auto remembered = store->list_bans(0);  // ended bans stay for escalation
  ASSERT_TRUE(remembered);
  ASSERT_EQ(remembered->size(), 2u);
  EXPECT_EQ(remembered->back().offences, 2u);
  ASSERT_TRUE(store->put_ban({"192.0.2.7", "auth_failures", "again", 3000, 9000, 2}));
  auto again = store->list_bans(3000);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().offences, 2u);
  auto pruned = store->prune_bans(1600);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 1u);
  EXPECT_FALSE(store->put_ban({"", "x", "", 0, 0, 1}));
}

}  // namespace
}  // namespace postamt::storage::test
