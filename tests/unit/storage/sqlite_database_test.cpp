// The SQLite connection wrapper: the prepared statement cache.
#include "storage/sqlite/sqlite_database.hpp"

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_transaction.hpp"
#include "temp_dir.hpp"

namespace postamt::storage::sqlite {
namespace {

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);"));
  }

  test::TempDir dir_;
  Database db_{dir_.path() / "test.sqlite3"};
};

constexpr std::string_view kQuery = "SELECT x FROM t WHERE x >= ?1 ORDER BY x";

TEST_F(SqliteDatabaseTest, NestedUseOfTheSameSqlGetsItsOwnStatement) {
  auto outer = db_.prepare(kQuery);
  ASSERT_TRUE(outer);
  auto row = outer->bind(1, 2).step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(outer->column_int64(0), 2);
  {
    auto inner = db_.prepare(kQuery);
    ASSERT_TRUE(inner);
    auto first = inner->bind(1, 1).step();
    ASSERT_TRUE(first && *first);
    EXPECT_EQ(inner->column_int64(0), 1);
  }
  row = outer->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(outer->column_int64(0), 3) << "the outer statement was not disturbed";
}

TEST_F(SqliteDatabaseTest, AReusedStatementStartsOverWithoutBindings) {
  {
    auto stmt = db_.prepare(kQuery);
    ASSERT_TRUE(stmt);
    auto row = stmt->bind(1, 1).step();
    ASSERT_TRUE(row && *row);  // left mid-way
  }
  auto again = db_.prepare(kQuery);
  ASSERT_TRUE(again);
  auto row = again->step();
  ASSERT_TRUE(row);
  EXPECT_FALSE(*row) << "x >= NULL matches nothing: the old binding is gone";
  auto third = db_.prepare(kQuery);  // `again` still holds the cached one
  ASSERT_TRUE(third);
  row = third->bind(1, 3).step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(third->column_int64(0), 3);
}

TEST_F(SqliteDatabaseTest, RunCachesTransactionControl) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(db_.run("BEGIN IMMEDIATE"));
    auto insert = db_.prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(insert);
    ASSERT_TRUE(insert->bind(1, 10 + i).run());
    ASSERT_TRUE(db_.run("COMMIT"));
  }
  auto count = db_.prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count);
  auto row = count->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(count->column_int64(0), 6);
  EXPECT_FALSE(db_.run("NOT SQL"));
}

// PRAGMA synchronous as the connection has it now: 1 NORMAL (no WAL sync), 2 FULL.
std::int64_t synchronous(Database& db) {
  auto stmt = db.prepare("PRAGMA synchronous");
  EXPECT_TRUE(stmt);
  auto row = stmt->step();
  EXPECT_TRUE(row && *row);
  return stmt->column_int64(0);
}

TEST_F(SqliteDatabaseTest, OnlyAnUnsyncedTransactionCommitsWithoutSyncingTheWal) {
  EXPECT_EQ(synchronous(db_), 2) << "FULL from the start";
  {
    auto txn = Transaction::begin(db_, Transaction::Mode::write_unsynced);
    ASSERT_TRUE(txn);
    EXPECT_EQ(synchronous(db_), 1);
    ASSERT_TRUE(db_.run("UPDATE t SET x = x + 10 WHERE x = 1"));
    ASSERT_TRUE(txn->commit());
  }
  EXPECT_EQ(synchronous(db_), 2) << "back to FULL once it committed";
  {
    auto txn = Transaction::begin(db_, Transaction::Mode::write_unsynced);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db_.run("UPDATE t SET x = x + 10 WHERE x = 2"));
  }  // rolled back
  EXPECT_EQ(synchronous(db_), 2) << "back to FULL after a rollback";
  {
    auto txn = Transaction::begin(db_, Transaction::Mode::write);
    ASSERT_TRUE(txn);
    EXPECT_EQ(synchronous(db_), 2);
    ASSERT_TRUE(txn->commit());
  }
  auto stmt = db_.prepare("SELECT group_concat(x) FROM (SELECT x FROM t ORDER BY x)");
  ASSERT_TRUE(stmt);
  auto row = stmt->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(stmt->column_text(0), "2,3,11");
}

TEST_F(SqliteDatabaseTest, SetSyncedCommitsOnlyBetweenTransactionsAndOnlyWhenItChanges) {
  ASSERT_TRUE(db_.set_synced_commits(true));
  EXPECT_EQ(synchronous(db_), 2);
  ASSERT_TRUE(db_.set_synced_commits(false));
  EXPECT_EQ(synchronous(db_), 1);
  ASSERT_TRUE(db_.set_synced_commits(true));
  EXPECT_EQ(synchronous(db_), 2);
}

}  // namespace
}  // namespace postamt::storage::sqlite
