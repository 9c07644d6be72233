// TextIndexer: real messages delivered into a real SqliteMailStore and FsBlobStore, indexed
// by the batch step (or the thread), then found by the store's text candidates, which must
// hold every message the SEARCH matcher finds.
#include "imap/text_indexer.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "imap/message/search_matcher.hpp"
#include "imap/message/search_string.hpp"
#include "imap/search_prefilter.hpp"
#include "mime/analyze_message.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::imap {
namespace {

using Uids = std::vector<std::uint32_t>;
using proto::imap::SearchKey;

std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

const std::string kPlain = crlf(
    "From: Alice <alice@example.com>\n"
    "To: bob@example.com\n"
    "Subject: Quarterly numbers\n"
    "Date: Mon, 6 Nov 2023 10:00:00 +0000\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "The quarterly report is attached below.\n");

const std::string kQuotedPrintable = crlf(
    "From: Carl <carl@example.de>\n"
    "To: bob@example.com\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Viele Gr=C3=BC=C3=9Fe, die Stra=C3=9Fe ist ges=\n"
    "perrt.\n");

const std::string kMultipart = crlf(
    "From: billing@example.net\n"
    "To: bob@example.com\n"
    "Subject: Your invoice\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\n"
    "\n"
    "--b1\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PGh0bWw+PGJvZHk+PHA+SW52b2ljZSBudW1iZXIgNDcxMSBpcyBkdWU8L3A+PC9ib2R5PjwvaHRtbD4=\n"
    "--b1\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "aGlkZGVud29yZCBpbnNpZGUgYSBiaW5hcnkgYXR0YWNobWVudA==\n"
    "--b1--\n");

class TextIndexerTest : public ::testing::Test {
 protected:
  TextIndexerTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "postamt-fts-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    store_ = std::make_unique<storage::SqliteMailStore>(dir_ / "data");
    blobs_ = std::make_unique<storage::FsBlobStore>(dir_ / "blobs");
    EXPECT_TRUE(store_->add_domain("example.com"));
    auto account = store_->add_account("bob@example.com", "{ARGON2ID}$argon2id$x");
    EXPECT_TRUE(account) << account.error().message;
    auto inbox = store_->find_mailbox(account->id, "INBOX");
    auto archive = store_->find_mailbox(account->id, "Archive");
    EXPECT_TRUE(inbox && archive);
    inbox_ = inbox->id;
    archive_ = archive->id;
  }
  ~TextIndexerTest() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Delivers as the MDA does: the bytes into the blob store, the row with real metadata.
  std::uint32_t deliver(const std::string& raw, storage::Id mailbox_id = 0) {
    auto ref = blobs_->put(raw);
    EXPECT_TRUE(ref) << ref.error().message;
    return append_row(ref->id, raw.size(), mime::analyze_message(raw).serialize(), mailbox_id);
  }

  std::uint32_t append_row(const std::string& blob_id, std::size_t size, std::string metadata,
                           storage::Id mailbox_id = 0) {
    storage::NewMessage message;
    message.mailbox_id = mailbox_id != 0 ? mailbox_id : inbox_;
    message.blob_id = blob_id;
    message.size = size;
    message.internal_date = 1'700'000'000;
    message.mime_metadata = std::move(metadata);
    auto rows = store_->append_messages(std::vector<storage::NewMessage>{message});
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? rows->front().uid : 0;
  }

  TextIndexBatch step(TextIndexer& indexer) {
    auto batch = indexer.run_batch();
    EXPECT_TRUE(batch) << batch.error().message;
    return batch ? *batch : TextIndexBatch{};
  }

  Uids candidates(std::string_view needle, storage::Id mailbox_id = 0) {
    auto uids = store_->text_candidates(mailbox_id != 0 ? mailbox_id : inbox_,
                                        fold_for_search(needle));
    EXPECT_TRUE(uids) << needle << ": " << uids.error().message;
    return uids ? *uids : Uids{};
  }

  Uids unindexed() {
    auto uids = store_->unindexed_uids(inbox_);
    EXPECT_TRUE(uids) << uids.error().message;
    return uids ? *uids : Uids{};
  }

  // The UIDs the SEARCH matcher finds for `key`, reading every message as the session does.
  Uids matcher_hits(const SearchKey& key) {
    auto records = store_->list_messages(inbox_);
    EXPECT_TRUE(records);
    Uids hits;
    for (const auto& record : *records) {
      auto metadata = mime::MessageMetadata::deserialize(record.mime_metadata);
      auto content = blobs_->read(record.blob_id);
      EXPECT_TRUE(metadata && content);
      storage::MessageSummary summary;
      summary.uid = record.uid;
      SearchSubject subject;
      subject.summary = &summary;
      subject.metadata = &*metadata;
      subject.content = *content;
      if (search_matches(key, subject, SearchScope{})) hits.push_back(record.uid);
    }
    return hits;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::SqliteMailStore> store_;
  std::unique_ptr<storage::FsBlobStore> blobs_;
  storage::Id inbox_ = 0;
  storage::Id archive_ = 0;
};

SearchKey string_key(SearchKey::Kind kind, std::string needle) {
  SearchKey key;
  key.kind = kind;
  key.text = std::move(needle);
  return key;
}

TEST_F(TextIndexerTest, IndexedMessagesAreFoundByTheirDecodedFoldedText) {
  deliver(kPlain);
  deliver(kQuotedPrintable);
  deliver(kMultipart);
  TextIndexer indexer(*store_, *blobs_);
  const TextIndexBatch batch = step(indexer);
  EXPECT_EQ(batch.examined, 3u);
  EXPECT_EQ(batch.indexed, 3u);
  EXPECT_EQ(batch.skipped, 0u);
  EXPECT_TRUE(unindexed().empty());
  EXPECT_TRUE(step(indexer).idle());

  EXPECT_EQ(candidates("QUARTERLY REPORT"), Uids{1}) << "body, folded";
  EXPECT_EQ(candidates("quarterly"), Uids{1}) << "subject and body";
  EXPECT_EQ(candidates("Grüße aus"), Uids{2}) << "RFC 2047 subject, decoded";
  EXPECT_EQ(candidates("GRÜSSE"), Uids{2}) << "full folding: ß is ss";
  EXPECT_EQ(candidates("strasse ist gesperrt"), Uids{2}) << "quoted-printable, soft break";
  EXPECT_EQ(candidates("invoice number 4711"), Uids{3}) << "base64 html part";
  EXPECT_TRUE(candidates("hiddenword").empty()) << "not a text part: SEARCH skips it too";
  EXPECT_EQ(candidates("bob@example.com"), (Uids{1, 2, 3})) << "header fields";
}

TEST_F(TextIndexerTest, CandidatesHoldEveryMatcherHit) {
  deliver(kPlain);
  deliver(kQuotedPrintable);
  deliver(kMultipart);
  TextIndexer indexer(*store_, *blobs_);
  step(indexer);
  for (const std::string needle :
       {"quarterly", "REPORT IS", "grüße", "GRÜSSE", "Straße", "STRASSE", "köln", "4711",
        "invoice", "example", "subject: your", "to: bob", "hiddenword", "content-type",
        "e.\nviele", "gesperrt", "multipart"}) {
    for (const auto kind : {SearchKey::Kind::text, SearchKey::Kind::body}) {
      SearchKey key;
      key.kind = SearchKey::Kind::and_;
      key.children.push_back(string_key(kind, needle));
      const auto needles = required_substrings(key);
      ASSERT_EQ(needles.size(), 1u) << needle;
      auto found = text_search_candidates(*store_, inbox_, needles);
      ASSERT_TRUE(found) << found.error().message;
      const Uids hits = matcher_hits(key);
      for (const std::uint32_t uid : hits)
        EXPECT_TRUE(std::find(found->begin(), found->end(), uid) != found->end())
            << needle << ": the matcher finds UID " << uid << ", the index does not";
      if (kind == SearchKey::Kind::text) {
        EXPECT_EQ(*found, hits) << needle << ": TEXT reads exactly the indexed text";
      }
    }
  }
}

TEST_F(TextIndexerTest, MessagesNotIndexedYetAreAlwaysCandidates) {
  deliver(kPlain);
  TextIndexer indexer(*store_, *blobs_);
  step(indexer);
  deliver(kMultipart);
  const std::vector<std::string> needles = {"quarterly"};
  auto found = text_search_candidates(*store_, inbox_, needles);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, (Uids{1, 2})) << "UID 2 waits for the index";
  step(indexer);
  found = text_search_candidates(*store_, inbox_, needles);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, Uids{1});
  const std::vector<std::string> two = {"quarterly", "invoice"};
  found = text_search_candidates(*store_, inbox_, two);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty()) << "every needle is required";
  EXPECT_FALSE(text_search_candidates(*store_, inbox_, std::vector<std::string>{}));
}

TEST_F(TextIndexerTest, CopiesAreIndexedOnce) {
  deliver(kPlain);
  deliver(kPlain, archive_);  // the same bytes delivered twice: one blob
  TextIndexer indexer(*store_, *blobs_);
  EXPECT_EQ(step(indexer).examined, 1u);
  ASSERT_TRUE(store_->copy_messages(inbox_, Uids{1}, archive_, false));
  EXPECT_TRUE(step(indexer).idle()) << "a copy brings no work";
  EXPECT_EQ(candidates("quarterly", archive_), (Uids{1, 2}));
}

TEST_F(TextIndexerTest, BatchesAreBounded) {
  for (int i = 0; i < 5; ++i)
    deliver(kPlain + crlf("message number " + std::to_string(i) + "\n"));
  TextIndexer indexer(*store_, *blobs_, TextIndexerOptions{2, 1, 256, {}});
  EXPECT_EQ(step(indexer).indexed, 2u);
  EXPECT_EQ(step(indexer).indexed, 2u);
  EXPECT_EQ(step(indexer).indexed, 1u);
  EXPECT_TRUE(step(indexer).idle());
  EXPECT_EQ(candidates("message number 3"), Uids{4});
}

TEST_F(TextIndexerTest, UnreadableBlobsStayCandidatesAndAreNotRetriedInALoop) {
  deliver(kPlain);
  // A row whose file is missing, and a row whose metadata is garbage.
  append_row(std::string(64, 'f'), 10, mime::analyze_message(kPlain).serialize());
  auto ref = blobs_->put(kMultipart);
  ASSERT_TRUE(ref);
  append_row(ref->id, kMultipart.size(), "not metadata");
  deliver(kQuotedPrintable);
  TextIndexer indexer(*store_, *blobs_);
  const TextIndexBatch batch = step(indexer);
  EXPECT_EQ(batch.examined, 4u);
  EXPECT_EQ(batch.indexed, 2u);
  EXPECT_EQ(batch.skipped, 2u);
  EXPECT_TRUE(step(indexer).idle()) << "skipped blobs wait for the next start";
  EXPECT_EQ(unindexed(), (Uids{2, 3}));
  const std::vector<std::string> needles = {"köln"};
  auto found = text_search_candidates(*store_, inbox_, needles);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, (Uids{2, 3, 4}));
}

TEST_F(TextIndexerTest, TextsOfExpungedMessagesArePurged) {
  deliver(kPlain);
  deliver(kMultipart);
  TextIndexer indexer(*store_, *blobs_);
  step(indexer);
  ASSERT_TRUE(store_->expunge(inbox_, Uids{1, 2}));
  const TextIndexBatch batch = step(indexer);
  EXPECT_EQ(batch.examined, 0u);
  EXPECT_EQ(batch.purged, 2u);
  EXPECT_TRUE(batch.idle());
  EXPECT_EQ(step(indexer).purged, 0u);
}

TEST_F(TextIndexerTest, TheThreadIndexesWhenWokenAndStops) {
  deliver(kPlain);  // before start: the backlog
  TextIndexer indexer(*store_, *blobs_);
  store_->set_change_listener([&](std::span<const storage::Id>) { indexer.wake(); });
  indexer.start();
  deliver(kMultipart);
  // Waits (bounded) for the thread; nothing here measures time.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!unindexed().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(unindexed().empty());
  EXPECT_EQ(candidates("invoice number"), Uids{2});
  indexer.stop();
  indexer.stop();  // idempotent
  store_->set_change_listener({});
  deliver(kQuotedPrintable);
  EXPECT_EQ(unindexed(), Uids{3}) << "stopped: nothing indexes any more";
}

TEST_F(TextIndexerTest, WaitsForAPauseInTheChanges) {
  TextIndexerOptions options;
  options.quiet_period = std::chrono::seconds(2);
  options.max_delay = std::chrono::seconds(120);
  TextIndexer indexer(*store_, *blobs_, options);
  store_->set_change_listener([&](std::span<const storage::Id>) { indexer.wake(); });
  indexer.start();
  const std::uint32_t first = deliver(kPlain);
  // A stream of changes, each well inside the quiet period: nothing is indexed meanwhile.
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    deliver(kMultipart);
  }
  const Uids during = unindexed();
  ASSERT_FALSE(during.empty());
  EXPECT_EQ(during.front(), first);
  // The pause: everything is indexed (waited for, bounded; nothing here measures time).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!unindexed().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(unindexed().empty());
  indexer.stop();
  store_->set_change_listener({});
}

TEST_F(TextIndexerTest, IndexesAfterTheLongestDelayEvenWhileChangesGoOn) {
  TextIndexerOptions options;
  options.quiet_period = std::chrono::seconds(5);
  options.max_delay = std::chrono::milliseconds(300);
  TextIndexer indexer(*store_, *blobs_, options);
  store_->set_change_listener([&](std::span<const storage::Id>) { indexer.wake(); });
  indexer.start();
  const std::uint32_t first = deliver(kPlain);
  // Changes keep coming faster than the quiet period; the first message is indexed anyway.
  bool indexed_during_stream = false;
  for (int i = 0; i < 300 && !indexed_during_stream; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    deliver(kMultipart);
    const Uids waiting = unindexed();
    indexed_during_stream = waiting.empty() || waiting.front() != first;
  }
  EXPECT_TRUE(indexed_during_stream);
  indexer.stop();
  store_->set_change_listener({});
}

TEST_F(TextIndexerTest, StopWithoutStart) {
  TextIndexer indexer(*store_, *blobs_);
  indexer.wake();
  indexer.stop();
  indexer.start();  // after stop: does nothing
  indexer.stop();
  SUCCEED();
}

}  // namespace
}  // namespace postamt::imap
