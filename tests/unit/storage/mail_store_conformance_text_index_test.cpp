// The MailStore conformance suite, part three: the full-text index behind SEARCH BODY /
// TEXT (schema version 3): waiting blobs, indexing, candidates, blobs shared by copies and
// deliveries, deletion, needles that look like FTS syntax, non-ASCII text. Also the SQLite
// upgrade of a version 2 database.
#include <sqlite3.h>

#include "mail_store_conformance.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_schema.hpp"

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;
using Uids = std::vector<std::uint32_t>;

std::vector<UnindexedBlob> waiting(MailStore& store, std::size_t limit = 100,
                                   std::int64_t after = 0) {
  auto rows = store.unindexed_blobs(limit, after);
  EXPECT_TRUE(rows) << rows.error().message;
  return rows ? *rows : std::vector<UnindexedBlob>{};
}

std::vector<std::string> waiting_ids(MailStore& store) {
  std::vector<std::string> ids;
  for (const auto& row : waiting(store)) ids.push_back(row.blob_id);
  return ids;
}

void index(MailStore& store, std::vector<BlobText> texts) {
  auto done = store.index_blob_texts(texts);
  EXPECT_TRUE(done) << done.error().message;
}

Uids candidates(MailStore& store, Id mailbox_id, std::string_view needle) {
  auto uids = store.text_candidates(mailbox_id, needle);
  EXPECT_TRUE(uids) << needle << ": " << uids.error().message;
  return uids ? *uids : Uids{};
}

Uids unindexed(MailStore& store, Id mailbox_id) {
  auto uids = store.unindexed_uids(mailbox_id);
  EXPECT_TRUE(uids) << uids.error().message;
  return uids ? *uids : Uids{};
}

std::size_t purged(MailStore& store, std::size_t limit) {
  auto count = store.purge_text_index(limit);
  EXPECT_TRUE(count) << count.error().message;
  return count ? *count : 0;
}

Uids uids_of(const std::vector<MessageRecord>& rows) {
  Uids out;
  for (const auto& row : rows) out.push_back(row.uid);
  return out;
}

TEST_P(MailStoreConformance, NewMessagesWaitForTheIndexOldestFirst) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  NewMessage first = message_for(inbox.id, blob('b'));
  first.mime_metadata = std::string("first\0meta", 10);
  append({first, message_for(inbox.id, blob('a')), message_for(inbox.id, blob('c'))});

  const auto rows = waiting(store());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].blob_id, blob('b')) << "in order of arrival, not of blob id";
  EXPECT_EQ(rows[1].blob_id, blob('a'));
  EXPECT_EQ(rows[2].blob_id, blob('c'));
  EXPECT_EQ(rows[0].mime_metadata, std::string("first\0meta", 10)) << "binary metadata intact";
  EXPECT_LT(rows[0].seq, rows[1].seq);
  EXPECT_LT(rows[1].seq, rows[2].seq);
  EXPECT_EQ(waiting(store(), 2).size(), 2u) << "limit";
  EXPECT_TRUE(waiting(store(), 0).empty());
  const auto after_first = waiting(store(), 100, rows[0].seq);
  ASSERT_EQ(after_first.size(), 2u) << "the cursor skips what was looked at";
  EXPECT_EQ(after_first[0].blob_id, blob('a'));
  EXPECT_EQ(unindexed(store(), inbox.id), (Uids{1, 2, 3}));
}

TEST_P(MailStoreConformance, IndexedTextYieldsCandidatesBySubstring) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2')),
          message_for(inbox.id, blob('3'))});
  index(store(), {{blob('1'), "subject: quarterly report\nthe numbers are in"},
                  {blob('2'), "subject: lunch\nsee you at noon"}});

  EXPECT_EQ(unindexed(store(), inbox.id), Uids{3}) << "blob 3 is still waiting";
  EXPECT_EQ(waiting_ids(store()), std::vector<std::string>{blob('3')});
  EXPECT_EQ(candidates(store(), inbox.id, "report"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "uarterl"), Uids{1}) << "inside a word";
  EXPECT_EQ(candidates(store(), inbox.id, "report\nthe"), Uids{1}) << "across the line";
  EXPECT_EQ(candidates(store(), inbox.id, "subject: "), (Uids{1, 2}));
  EXPECT_EQ(candidates(store(), inbox.id, "noon"), Uids{2});
  EXPECT_EQ(candidates(store(), inbox.id, "the numbers are in"), Uids{1});
  EXPECT_TRUE(candidates(store(), inbox.id, "numbers are out").empty())
      << "a phrase, not the words anywhere";
  EXPECT_TRUE(candidates(store(), inbox.id, "REPORT").empty())
      << "the caller folds: the index compares as given";
  EXPECT_TRUE(candidates(store(), inbox.id, "absent").empty());
}

TEST_P(MailStoreConformance, EmptyTextMeansIndexedWithNothingToFind) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'))});
  index(store(), {{blob('1'), ""}});
  EXPECT_TRUE(unindexed(store(), inbox.id).empty());
  EXPECT_TRUE(waiting(store()).empty());
  EXPECT_TRUE(candidates(store(), inbox.id, "anything").empty());
}

TEST_P(MailStoreConformance, NeedlesNeedThreeCharacters) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'))});
  index(store(), {{blob('1'), "ab äb 東京 abc"}});
  EXPECT_EQ(code_of(store().text_candidates(inbox.id, "")), Code::invalid);
  EXPECT_EQ(code_of(store().text_candidates(inbox.id, "ab")), Code::invalid);
  EXPECT_EQ(code_of(store().text_candidates(inbox.id, "äb")), Code::invalid)
      << "three octets, two characters";
  EXPECT_EQ(code_of(store().text_candidates(inbox.id, "東京")), Code::invalid);
  EXPECT_EQ(code_of(store().text_candidates(inbox.id, std::string("a\0b", 3))), Code::invalid);
  EXPECT_EQ(candidates(store(), inbox.id, "abc"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "東京 "), Uids{1});
}

TEST_P(MailStoreConformance, NeedlesAreTextNotQuerySyntax) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2'))});
  index(store(), {{blob('1'), "he said \"hi there\" and left; *star* near (x) - minus ^caret"},
                  {blob('2'), "hi there and near star minus caret or not"}});
  EXPECT_EQ(candidates(store(), inbox.id, "\"hi"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "\"hi there\""), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "\"\"\""), Uids{}) << "only quotes";
  EXPECT_EQ(candidates(store(), inbox.id, "*star*"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "sta*"), Uids{}) << "no prefix query";
  EXPECT_EQ(candidates(store(), inbox.id, "near (x)"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "NEAR(hi there)"), Uids{});
  EXPECT_EQ(candidates(store(), inbox.id, "hi AND there"), Uids{});
  EXPECT_EQ(candidates(store(), inbox.id, " and "), (Uids{1, 2}));
  EXPECT_EQ(candidates(store(), inbox.id, "- minus"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "-minus"), Uids{});
  EXPECT_EQ(candidates(store(), inbox.id, "^caret"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "or not"), Uids{2});
  EXPECT_EQ(candidates(store(), inbox.id, "text:"), Uids{}) << "no column filter";
}

TEST_P(MailStoreConformance, NonAsciiTextIsFoundByCharacters) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2'))});
  index(store(), {{blob('1'), "grüße aus köln — straße"},
                  {blob('2'), "東京タワーへようこそ 🙂🙂🙂"}});
  EXPECT_EQ(candidates(store(), inbox.id, "üße"), Uids{1});
  EXPECT_EQ(candidates(store(), inbox.id, "köln —"), Uids{1});
  EXPECT_EQ(code_of(store().text_candidates(inbox.id, "kö")), Code::invalid)
      << "needs the third character";
  EXPECT_EQ(candidates(store(), inbox.id, "東京タ"), Uids{2});
  EXPECT_EQ(candidates(store(), inbox.id, "ワーへよ"), Uids{2});
  EXPECT_EQ(candidates(store(), inbox.id, "🙂🙂🙂"), Uids{2});
  EXPECT_EQ(candidates(store(), inbox.id, "京東タ"), Uids{});
}

TEST_P(MailStoreConformance, CopiesAndDeliveriesShareOneIndexEntry) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord alice_inbox = mailbox(alice.id, "INBOX");
  const MailboxRecord bob_inbox = mailbox(bob.id, "INBOX");
  const MailboxRecord archive = mailbox(alice.id, "Archive");
  // One delivery to two recipients: two rows, one blob.
  append({message_for(alice_inbox.id, blob('d')), message_for(bob_inbox.id, blob('d'))});
  ASSERT_TRUE(store().copy_messages(alice_inbox.id, Uids{1}, archive.id, false));
  EXPECT_EQ(waiting_ids(store()), std::vector<std::string>{blob('d')}) << "once";
  EXPECT_EQ(unindexed(store(), archive.id), Uids{1});
  index(store(), {{blob('d'), "shared invitation text"}});
  EXPECT_EQ(candidates(store(), alice_inbox.id, "invitation"), Uids{1});
  EXPECT_EQ(candidates(store(), bob_inbox.id, "invitation"), Uids{1});
  EXPECT_EQ(candidates(store(), archive.id, "invitation"), Uids{1});
  // A copy of an indexed blob needs no indexing.
  ASSERT_TRUE(store().copy_messages(alice_inbox.id, Uids{1}, archive.id, false));
  EXPECT_TRUE(waiting(store()).empty());
  EXPECT_EQ(candidates(store(), archive.id, "invitation"), (Uids{1, 2}));
  EXPECT_TRUE(unindexed(store(), archive.id).empty());
  // Indexing it again is skipped: the first text stays.
  index(store(), {{blob('d'), "something else"}});
  EXPECT_EQ(candidates(store(), bob_inbox.id, "invitation"), Uids{1});
  EXPECT_TRUE(candidates(store(), bob_inbox.id, "something").empty());
}

TEST_P(MailStoreConformance, CandidatesStayInTheirMailbox) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord sent = mailbox(account.id, "Sent");
  append({message_for(inbox.id, blob('1')), message_for(sent.id, blob('2')),
          message_for(inbox.id, blob('3'))});
  index(store(), {{blob('1'), "needle one"}, {blob('2'), "needle two"}, {blob('3'), "hay"}});
  EXPECT_EQ(candidates(store(), inbox.id, "needle"), Uids{1});
  EXPECT_EQ(candidates(store(), sent.id, "needle"), Uids{1});
  EXPECT_EQ(code_of(store().text_candidates(9999, "needle")), Code::not_found);
  EXPECT_EQ(code_of(store().unindexed_uids(9999)), Code::not_found);
}

TEST_P(MailStoreConformance, EntriesGoWithTheLastMessageOfTheirBlob) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord trash = mailbox(account.id, "Trash");
  append({message_for(inbox.id, blob('e')), message_for(inbox.id, blob('f'))});
  index(store(), {{blob('e'), "old secret text"}});
  // MOVE keeps the blob referenced: the entry stays.
  auto moved = store().copy_messages(inbox.id, Uids{1}, trash.id, true);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(candidates(store(), trash.id, "secret"), uids_of(messages(trash.id)));
  EXPECT_TRUE(candidates(store(), inbox.id, "secret").empty());
  // Expunging the last message removes the entry; a new delivery of the same bytes
  // waits for the index again instead of finding the old entry.
  ASSERT_TRUE(store().expunge(trash.id, uids_of(messages(trash.id))));
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('e')});
  EXPECT_EQ(purged(store(), 10), 1u) << "the text itself goes too";
  EXPECT_EQ(purged(store(), 10), 0u);
  append({message_for(inbox.id, blob('e'))});
  EXPECT_TRUE(candidates(store(), inbox.id, "secret").empty());
  EXPECT_EQ(waiting_ids(store()), (std::vector<std::string>{blob('f'), blob('e')}));
  EXPECT_EQ(unindexed(store(), inbox.id), (Uids{2, 3}));
  index(store(), {{blob('e'), "new secret text"}});
  EXPECT_EQ(candidates(store(), inbox.id, "new secret"), Uids{3});
  EXPECT_TRUE(candidates(store(), inbox.id, "old secret").empty());
}

TEST_P(MailStoreConformance, ABlobWhoseMessagesWentIsNotIndexedLate) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('9'))});
  ASSERT_EQ(waiting(store()).size(), 1u);
  // The message goes while its text is being made.
  ASSERT_TRUE(store().expunge(inbox.id, Uids{1}));
  EXPECT_TRUE(waiting(store()).empty());
  index(store(), {{blob('9'), "late text"}});
  // Delivered again: waits, not "indexed" by the late text.
  append({message_for(inbox.id, blob('9'))});
  EXPECT_EQ(waiting_ids(store()), std::vector<std::string>{blob('9')});
  EXPECT_EQ(unindexed(store(), inbox.id), Uids{2});
  EXPECT_TRUE(candidates(store(), inbox.id, "late").empty());
}

TEST_P(MailStoreConformance, DeletingAMailboxOrAccountDropsItsEntries) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  ASSERT_TRUE(store().create_mailbox(alice.id, "Work"));
  const MailboxRecord work = mailbox(alice.id, "Work");
  const MailboxRecord bob_inbox = mailbox(bob.id, "INBOX");
  append({message_for(work.id, blob('1')), message_for(work.id, blob('2')),
          message_for(bob_inbox.id, blob('2')), message_for(bob_inbox.id, blob('3'))});
  index(store(), {{blob('1'), "alpha"}, {blob('2'), "alpha"}});
  ASSERT_TRUE(store().delete_mailbox(alice.id, "Work"));
  EXPECT_EQ(candidates(store(), bob_inbox.id, "alpha"), Uids{1}) << "blob 2 is still Bob's";
  EXPECT_EQ(waiting_ids(store()), std::vector<std::string>{blob('3')});
  ASSERT_TRUE(store().delete_account("bob@example.com"));
  EXPECT_TRUE(waiting(store()).empty());
  EXPECT_EQ(purged(store(), 1), 1u) << "bounded";
  EXPECT_EQ(purged(store(), 0), 0u);
  EXPECT_EQ(purged(store(), 5), 1u);
  EXPECT_EQ(purged(store(), 5), 0u);
  const auto gone = unreferenced(store());
  ASSERT_TRUE(store().forget_blobs(gone));
  // Everything delivered afresh waits again.
  const MailboxRecord inbox = mailbox(alice.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2'))});
  EXPECT_EQ(unindexed(store(), inbox.id), (Uids{1, 2}));
  EXPECT_TRUE(candidates(store(), inbox.id, "alpha").empty());
}

TEST_P(MailStoreConformance, UnindexedUidsWhateverTheBacklog) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord sent = mailbox(account.id, "Sent");
  // The backlog is larger than the small mailbox and smaller than the big one.
  std::vector<NewMessage> big;
  for (char c : std::string("0123456789")) big.push_back(message_for(inbox.id, blob(c)));
  append(big);
  append({message_for(sent.id, blob('a'))});
  std::vector<BlobText> texts;
  for (char c : std::string("01234567")) texts.push_back({blob(c), "text"});
  index(store(), texts);
  EXPECT_EQ(unindexed(store(), inbox.id), (Uids{9, 10}));
  EXPECT_EQ(unindexed(store(), sent.id), Uids{1});
  index(store(), {{blob('a'), "text"}});
  EXPECT_TRUE(unindexed(store(), sent.id).empty());
}

TEST_P(MailStoreConformance, IndexRefusesBadBlobIdsAndSurvivesReopen) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'))});
  EXPECT_EQ(code_of(store().index_blob_texts(std::vector<BlobText>{{"../etc", "x"}})),
            Code::invalid);
  EXPECT_EQ(waiting(store()).size(), 1u) << "nothing stored";
  index(store(), {{blob('1'), "persistent words"}});
  reopen();
  EXPECT_EQ(candidates(store(), inbox.id, "persistent"), Uids{1});
  EXPECT_TRUE(waiting(store()).empty());
}

// --- the SQLite upgrade

void exec_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::int64_t count_rows(const std::filesystem::path& file, const std::string& table) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t count = -1;
  const std::string sql = "SELECT count(*) FROM " + table;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    count = sqlite3_column_int64(stmt, 0);
  } else {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

// The schema up to `version` (its migrations in order), then one account whose INBOX (id
// 1) has the given UIDNEXT and HIGHESTMODSEQ: an old database to upgrade.
std::string old_database(int version, int uidnext, int highestmodseq) {
  std::string sql;
  for (int v = 0; v < version; ++v) sql += std::string(sqlite::schema_migrations()[static_cast<std::size_t>(v)]);
  return sql + "PRAGMA user_version = " + std::to_string(version) + R"sql(;
    INSERT INTO domains(id, name, created_at) VALUES (1, 'example.com', 1);
    INSERT INTO accounts(id, domain_id, address, password_hash, created_at)
      VALUES (1, 1, 'alice@example.com', 'h', 1);
    INSERT INTO mailboxes(id, account_id, name, uidvalidity, uidnext, highestmodseq)
      VALUES (1, 1, 'INBOX', 100, )sql" + std::to_string(uidnext) + ", " +
         std::to_string(highestmodseq) + ");\n";
}

// A version 3 database (an index with positions) is upgraded in place: every indexed blob
// waits for the index again, and is found once indexed anew.
TEST(SqliteTextIndex, MigratesAVersion3IndexBackToTheQueue) {
  TempDir dir;
  const auto file = dir.path() / "index.sqlite3";
  const std::string blob_a(64, 'a');
  const std::string blob_b(64, 'b');
  exec_sql(file, old_database(3, 3, 6) + R"sql(
    INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id,
                         mime_metadata) VALUES
      (1, 1, 5, '', 10, 100, ')sql" + blob_a + R"sql(', x'0a'),
      (1, 2, 6, '', 20, 200, ')sql" + blob_b + R"sql(', x'0b');
    DELETE FROM blob_text_pending WHERE blob_id = ')sql" + blob_a + R"sql(';
    INSERT INTO blob_texts(id, blob_id) VALUES (7, ')sql" + blob_a + R"sql(');
    INSERT INTO blob_text_fts(rowid, text) VALUES (7, 'an old indexed text');
  )sql");
  auto store = open_sqlite_store(dir.path());
  ASSERT_EQ(store->schema_version(), static_cast<int>(sqlite::schema_migrations().size()));
  const auto rows = waiting(*store);
  ASSERT_EQ(rows.size(), 2u) << "the indexed blob waits again, beside the one that waited";
  EXPECT_EQ(rows[0].blob_id, blob_b);
  EXPECT_EQ(rows[1].blob_id, blob_a);
  EXPECT_EQ(count_rows(file, "blob_texts"), 0);
  EXPECT_EQ(count_rows(file, "blob_text_fts"), 0);
  EXPECT_EQ(unindexed(*store, 1), (Uids{1, 2}));
  index(*store, {{blob_a, "an old indexed text"}, {blob_b, "a newer text"}});
  EXPECT_EQ(candidates(*store, 1, "old indexed"), Uids{1});
  EXPECT_EQ(candidates(*store, 1, "text"), (Uids{1, 2}));
  EXPECT_TRUE(unindexed(*store, 1).empty());
}

// A version 2 database is upgraded in place: every blob its messages reference waits for
// the index, once, in the order of the messages that brought it.
TEST(SqliteTextIndex, MigratesAVersion2Database) {
  TempDir dir;
  const auto file = dir.path() / "index.sqlite3";
  const std::string blob_a(64, 'a');
  const std::string blob_b(64, 'b');
  exec_sql(file, old_database(2, 4, 7) + R"sql(
    INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id,
                         mime_metadata) VALUES
      (1, 1, 5, '', 10, 100, ')sql" + blob_b + R"sql(', x'0b'),
      (1, 2, 6, '', 20, 200, ')sql" + blob_a + R"sql(', x'0a'),
      (1, 3, 7, '', 30, 100, ')sql" + blob_b + R"sql(', x'0b');
  )sql");

  auto store = open_sqlite_store(dir.path());
  ASSERT_EQ(store->schema_version(), static_cast<int>(sqlite::schema_migrations().size()));
  const auto rows = waiting(*store);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].blob_id, blob_b);
  EXPECT_EQ(rows[0].mime_metadata, "\x0b");
  EXPECT_EQ(rows[1].blob_id, blob_a);
  EXPECT_EQ(unindexed(*store, 1), (Uids{1, 2, 3}));
  index(*store, {{blob_b, "from the old days"}});
  EXPECT_EQ(candidates(*store, 1, "old days"), (Uids{1, 3}));
  EXPECT_EQ(unindexed(*store, 1), Uids{2});
  // The triggers of version 3 work on the old rows.
  ASSERT_TRUE(store->expunge(1, Uids{1}));
  EXPECT_EQ(candidates(*store, 1, "old days"), Uids{3});
  ASSERT_TRUE(store->expunge(1, Uids{2}));
  EXPECT_TRUE(waiting(*store).empty());
  EXPECT_EQ(count_rows(file, "blob_text_fts"), 1) << "an entry is gone, its text not yet";
  ASSERT_TRUE(store->expunge(1, Uids{3}));
  EXPECT_EQ(count_rows(file, "blob_texts"), 0);
  EXPECT_EQ(count_rows(file, "blob_text_garbage"), 1);
  auto purged = store->purge_text_index(100);
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(count_rows(file, "blob_text_fts"), 0);
  EXPECT_EQ(count_rows(file, "blob_text_garbage"), 0);
}

}  // namespace
}  // namespace postamt::storage::test
