// The SQLite backend: runs the conformance suite and checks what only this backend has
// (schema versions, pragmas, crash recovery).
#include "storage/sqlite/sqlite_mail_store.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "mail_store_conformance.hpp"
#include "storage/sqlite/sqlite_schema.hpp"

namespace postamt::storage::test {
namespace {

INSTANTIATE_TEST_SUITE_P(Sqlite, MailStoreConformance,
                         ::testing::Values(MailStoreBackend{"sqlite", open_sqlite_store}),
                         backend_name);

// Runs one query on the database file with a separate connection.
std::string query_text(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) out = reinterpret_cast<const char*>(text);
  } else {
    ADD_FAILURE() << "query failed: " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

void exec_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteMailStore, CreatesDataDirAndDatabaseFile) {
  TempDir dir;
  const auto data = dir.path() / "nested" / "data";
  auto store = open_sqlite_store(data);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(data / "index.sqlite3"));
}

TEST(SqliteMailStore, SchemaVersionMatchesTheMigrationsAndIsRecorded) {
  TempDir dir;
  const int expected = static_cast<int>(sqlite::schema_migrations().size());
  {
    auto store = open_sqlite_store(dir.path());
    EXPECT_EQ(store->schema_version(), expected);
  }
  EXPECT_EQ(query_text(dir.path() / "index.sqlite3", "PRAGMA user_version"),
            std::to_string(expected));
}

TEST(SqliteMailStore, MigrationsAreIdempotentOnReopen) {
  TempDir dir;
  const auto file = dir.path() / "index.sqlite3";
  { auto store = open_sqlite_store(dir.path()); }
  const std::string schema = query_text(file, "SELECT group_concat(sql, ';') FROM sqlite_schema");
  for (int i = 0; i < 3; ++i) {
    auto store = open_sqlite_store(dir.path());
    EXPECT_EQ(store->schema_version(), static_cast<int>(sqlite::schema_migrations().size()));
  }
  EXPECT_EQ(query_text(file, "SELECT group_concat(sql, ';') FROM sqlite_schema"), schema);
}

TEST(SqliteMailStore, UsesWriteAheadLogging) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path());
  EXPECT_EQ(query_text(dir.path() / "index.sqlite3", "PRAGMA journal_mode"), "wal");
}

TEST(SqliteMailStore, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  { auto store = open_sqlite_store(dir.path()); }
  exec_sql(dir.path() / "index.sqlite3", "PRAGMA user_version = 999");
  try {
    auto store = open_sqlite_store(dir.path());
    ADD_FAILURE() << "opened a database with a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
}

TEST(SqliteMailStore, OpenFailureIsAStartUpError) {
  TempDir dir;
  const auto file = dir.path() / "not-a-directory";
  std::ofstream(file) << "x";
  EXPECT_THROW(open_sqlite_store(file), std::runtime_error);

  const auto data = dir.path() / "data";
  std::filesystem::create_directories(data);
  std::ofstream(data / "index.sqlite3") << "this is not an SQLite database, just some bytes.....";
  EXPECT_THROW(open_sqlite_store(data), std::runtime_error);
}

// A child process commits and then dies by SIGKILL: no destructor, no sqlite3_close, no
// WAL checkpoint. Everything it committed must be there when the file is opened again.
TEST(SqliteMailStore, CommittedDataSurvivesAKilledProcess) {
  TempDir dir;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = open_sqlite_store(dir.path());
    bool ok = store->add_domain("example.com").has_value();
    auto account = store->add_account("alice@example.com", "h");
    ok = ok && account.has_value();
    if (ok) {
      auto inbox = store->find_mailbox(account->id, "INBOX");
      ok = inbox.has_value();
      if (ok) {
        std::vector<NewMessage> batch;
        for (char c : std::string("123")) batch.push_back(message_for(inbox->id, blob(c)));
        ok = store->append_messages(batch).has_value();
      }
    }
    ok = ok && store
                   ->enqueue([] {
                     QueueMessage m;
                     m.blob_id = blob('9');
                     QueueRecipient r;
                     r.address = "x@remote.test";
                     m.recipients.push_back(r);
                     return m;
                   }())
                   .has_value();
    if (!ok) ::_exit(3);
    ::kill(::getpid(), SIGKILL);
    ::_exit(4);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  auto store = open_sqlite_store(dir.path());
  auto account = store->find_account("alice@example.com");
  ASSERT_TRUE(account);
  auto inbox = store->find_mailbox(account->id, "INBOX");
  ASSERT_TRUE(inbox);
  EXPECT_EQ(inbox->uidnext, 4u);
  auto messages = store->list_messages(inbox->id);
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->size(), 3u);
  auto queue = store->list_queue();
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ(queue->front().recipients.size(), 1u);
}

// Another process (the CLI, say) writing the same database at the same time.
TEST(SqliteMailStore, TwoStoresOnOneDatabaseSeeEachOthersCommits) {
  TempDir dir;
  auto first = open_sqlite_store(dir.path());
  auto second = open_sqlite_store(dir.path());
  ASSERT_TRUE(first->add_domain("example.com"));
  ASSERT_TRUE(second->add_account("alice@example.com", "h"));
  EXPECT_TRUE(first->find_account("alice@example.com"));
  EXPECT_EQ(second->add_domain("example.com").error().code, StorageError::Code::already_exists);
}

}  // namespace
}  // namespace postamt::storage::test
