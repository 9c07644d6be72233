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

// A database written by the first release (schema version 1) is upgraded in place: its
// data survives and the version 2 features work on it.
TEST(SqliteMailStore, MigratesAVersion1Database) {
  TempDir dir;
  const auto file = dir.path() / "index.sqlite3";
  const std::string blob_a(64, 'a');
  const std::string blob_b(64, 'b');
  exec_sql(file, std::string(sqlite::schema_migrations()[0]) + R"sql(
    PRAGMA user_version = 1;
    UPDATE meta SET value = 100 WHERE key = 'last_uidvalidity';
    INSERT INTO domains(id, name, created_at) VALUES (1, 'example.com', 1);
    INSERT INTO accounts(id, domain_id, address, password_hash, quota_bytes, created_at)
      VALUES (1, 1, 'alice@example.com', 'h', 1000, 1);
    INSERT INTO mailboxes(id, account_id, name, uidvalidity, uidnext, highestmodseq)
      VALUES (1, 1, 'INBOX', 100, 4, 7), (2, 1, 'Trash', 99, 1, 1);
    INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id,
                         mime_metadata) VALUES
      (1, 1, 5, '\Seen', 10, 100, ')sql" + blob_a + R"sql(', x'00'),
      (1, 2, 6, '', 20, 200, ')sql" + blob_b + R"sql(', x'01'),
      (1, 3, 7, '$Work \Deleted \Seen', 30, 300, ')sql" + blob_a + R"sql(', x'02');
    INSERT INTO subscriptions(account_id, name) VALUES (1, 'INBOX');
  )sql");
  ASSERT_EQ(query_text(file, "PRAGMA user_version"), "1");

  auto store = open_sqlite_store(dir.path());
  EXPECT_EQ(store->schema_version(), static_cast<int>(sqlite::schema_migrations().size()));
  auto account = store->find_account("alice@example.com");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->quota_bytes, 1000u);
  auto status = store->mailbox_status(1);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->mailbox.name, "INBOX");
  EXPECT_EQ(status->mailbox.uidvalidity, 100u);
  EXPECT_EQ(status->mailbox.message_count, 3u);
  EXPECT_EQ(status->mailbox.total_size, 600u);
  EXPECT_EQ(status->mailbox.highestmodseq, 7u);
  EXPECT_EQ(status->unseen, 1u) << "the counters were filled from the existing messages";
  EXPECT_EQ(status->deleted, 1u);
  EXPECT_EQ(status->recent, 0u) << "mail from before the upgrade is not recent";
  auto summaries = store->list_summaries(1, 5);
  ASSERT_TRUE(summaries);
  ASSERT_EQ(summaries->size(), 2u);
  EXPECT_EQ((*summaries)[1].flags, (std::vector<std::string>{"$Work", "\\Deleted", "\\Seen"}));
  auto usage = store->account_usage(account->id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 600u);

  // Version 2 at work on the old rows: triggers, expunge records, \Recent, quota.
  const std::vector<std::uint32_t> two = {2};
  auto moved = store->copy_messages(1, two, 2, true);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->destination_uidvalidity, 99u);
  auto vanished = store->expunged_since(1, 7);
  ASSERT_TRUE(vanished);
  EXPECT_EQ(*vanished, two);
  status = store->mailbox_status(1);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->unseen, 0u);
  EXPECT_EQ(status->mailbox.highestmodseq, 8u);
  auto trash = store->mailbox_status(2);
  ASSERT_TRUE(trash);
  EXPECT_EQ(trash->unseen, 1u);
  EXPECT_EQ(trash->recent, 1u);
  const std::vector<std::string> seen = {"\\Seen"};
  auto flagged = store->update_flags(2, moved->destination_uids, FlagChange::add, seen);
  ASSERT_TRUE(flagged);
  ASSERT_EQ(flagged->changed.size(), 1u);
  trash = store->mailbox_status(2);
  ASSERT_TRUE(trash);
  EXPECT_EQ(trash->unseen, 0u);
  const std::vector<NewMessage> big = {message_for(1, blob('c'), 401)};
  EXPECT_EQ(code_of(store->append_messages(big)), StorageError::Code::quota_exceeded);
  const std::vector<NewMessage> fits = {message_for(1, blob('c'), 400)};
  auto appended = store->append_messages(fits);
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ((*appended)[0].uid, 4u);
  auto claimed = store->claim_recent(1);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(*claimed, 4u);
  auto subscriptions = store->list_subscriptions(account->id);
  ASSERT_TRUE(subscriptions);
  EXPECT_EQ(*subscriptions, std::vector<std::string>{"INBOX"});
  auto known = store->blob_known(blob_b);
  ASSERT_TRUE(known);
  EXPECT_TRUE(*known);
  EXPECT_TRUE(store->delete_mailbox(account->id, "Trash"));
  EXPECT_EQ(query_text(file, "SELECT uid FROM expunged"), "2");
  EXPECT_EQ(unreferenced(*store), std::vector<std::string>{blob_b});
}

// Expunge records go with their mailbox and account (ON DELETE CASCADE).
TEST(SqliteMailStore, ExpungeRecordsAreDeletedWithTheirMailboxAndAccount) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path());
  ASSERT_TRUE(store->add_domain("example.com"));
  auto account = store->add_account("alice@example.com", "h");
  ASSERT_TRUE(account);
  auto work = store->create_mailbox(account->id, "Work");
  auto inbox = store->find_mailbox(account->id, "INBOX");
  ASSERT_TRUE(work && inbox);
  const std::vector<NewMessage> batch = {message_for(work->id, blob('1')),
                                         message_for(inbox->id, blob('2'))};
  ASSERT_TRUE(store->append_messages(batch));
  const std::vector<std::uint32_t> one = {1};
  ASSERT_TRUE(store->expunge(work->id, one));
  ASSERT_TRUE(store->expunge(inbox->id, one));
  const auto file = dir.path() / "index.sqlite3";
  EXPECT_EQ(query_text(file, "SELECT count(*) FROM expunged"), "2");
  ASSERT_TRUE(store->delete_mailbox(account->id, "Work"));
  EXPECT_EQ(query_text(file, "SELECT count(*) FROM expunged"), "1");
  ASSERT_TRUE(store->delete_account("alice@example.com"));
  EXPECT_EQ(query_text(file, "SELECT count(*) FROM expunged"), "0");
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
