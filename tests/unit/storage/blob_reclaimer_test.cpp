#include "storage/api/blob_reclaimer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "temp_dir.hpp"

namespace postamt::storage::test {
namespace {

using After = BlobPins::After;

class BlobReclaimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_sqlite_store(dir_.path() / "data");
    blobs_ = std::make_unique<FsBlobStore>(dir_.path() / "data" / "blobs");
    ASSERT_TRUE(store_->add_domain("example.test"));
    auto account = store_->add_account("a@example.test", "{ARGON2ID}$x");
    ASSERT_TRUE(account);
    inbox_ = store_->find_mailbox(account->id, "INBOX")->id;
  }

  // A put and the commit of its row, the hold released as a delivery does.
  MessageRecord deliver(std::string_view content) {
    auto blob = blobs_->put(content);
    EXPECT_TRUE(blob);
    NewMessage message;
    message.mailbox_id = inbox_;
    message.blob_id = blob->id;
    message.size = blob->size;
    auto rows = store_->append_messages(std::span<const NewMessage>(&message, 1));
    EXPECT_TRUE(rows);
    blobs_->release(blob->id, After::referenced);
    return rows->front();
  }

  void expunge(const MessageRecord& row) {
    const std::uint32_t uids[] = {row.uid};
    ASSERT_TRUE(store_->expunge(inbox_, uids));
  }

  TempDir dir_;
  std::unique_ptr<MailStore> store_;
  std::unique_ptr<FsBlobStore> blobs_;
  Id inbox_ = 0;
};

TEST_F(BlobReclaimerTest, AnExpungedMessagesBlobGoesAndAReferencedOneStays) {
  const auto kept = deliver("Subject: keep\r\n\r\nkeep\r\n");
  const auto dropped = deliver("Subject: drop\r\n\r\ndrop\r\n");
  expunge(dropped);
  BlobReclaimer reclaimer(*store_, *blobs_);
  auto removed = reclaimer.reclaim_once();
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1u);
  EXPECT_FALSE(blobs_->exists(dropped.blob_id));
  EXPECT_FALSE(*store_->blob_known(dropped.blob_id));
  EXPECT_TRUE(blobs_->exists(kept.blob_id));
  EXPECT_EQ(*reclaimer.reclaim_once(), 0u) << "nothing left to do";
}

TEST_F(BlobReclaimerTest, ARefusedMessagesFileGoesOnceItsHoldEnds) {
  auto blob = blobs_->put("Subject: refused\r\n\r\nover quota\r\n");
  ASSERT_TRUE(blob);
  BlobReclaimer reclaimer(*store_, *blobs_);
  EXPECT_EQ(*reclaimer.reclaim_once(), 0u) << "not queued while held";
  EXPECT_TRUE(blobs_->exists(blob->id));
  blobs_->release(blob->id, After::check);
  EXPECT_EQ(*reclaimer.reclaim_once(), 1u);
  EXPECT_FALSE(blobs_->exists(blob->id));
  EXPECT_EQ(blobs_->pins().held(), 0u);
}

// The race: the same content arrives again while its old copy's reference count
// is zero. The new delivery's put finds the file and writes nothing; the reclaimer must
// not remove it before the new row commits.
TEST_F(BlobReclaimerTest, AHeldBlobIsNeverRemovedEvenWithNoReferences) {
  const std::string content = "Subject: same\r\n\r\nsame bytes\r\n";
  expunge(deliver(content));  // refcount 0: a candidate
  auto again = blobs_->put(content);  // a new delivery: found on disk, held
  ASSERT_TRUE(again);
  BlobReclaimer reclaimer(*store_, *blobs_);
  EXPECT_EQ(*reclaimer.reclaim_once(), 0u);
  EXPECT_TRUE(blobs_->exists(again->id));
  NewMessage message;
  message.mailbox_id = inbox_;
  message.blob_id = again->id;
  message.size = again->size;
  ASSERT_TRUE(store_->append_messages(std::span<const NewMessage>(&message, 1)));
  blobs_->release(again->id, After::referenced);
  EXPECT_EQ(*reclaimer.reclaim_once(), 0u);
  auto bytes = blobs_->read(again->id);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, content);
}

TEST_F(BlobReclaimerTest, APutOfAFencedBlobWaitsForTheRemovalThenWritesAfresh) {
  const std::string content = "Subject: fenced\r\n\r\nfenced\r\n";
  const auto row = deliver(content);
  expunge(row);
  auto fenced = blobs_->pins().fence({row.blob_id});
  ASSERT_EQ(fenced.size(), 1u);
  std::atomic<bool> put_done = false;
  std::thread writer([&] {
    auto blob = blobs_->put(content);
    EXPECT_TRUE(blob);
    put_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(put_done) << "the put must wait while the blob is fenced";
  // What the reclaimer does inside the fence: forget the row, remove the file.
  auto removable = store_->forget_unreferenced_blobs(fenced);
  ASSERT_TRUE(removable);
  ASSERT_EQ(removable->size(), 1u);
  ASSERT_TRUE(blobs_->remove(row.blob_id));
  blobs_->pins().unfence(fenced);
  writer.join();
  EXPECT_TRUE(put_done);
  EXPECT_TRUE(blobs_->exists(row.blob_id)) << "written again after the removal";
  EXPECT_EQ(blobs_->pins().held(), 1u);
}

TEST_F(BlobReclaimerTest, AStillReferencedCandidateIsKept) {
  const auto row = deliver("Subject: kept\r\n\r\nkept\r\n");
  const std::string ids[] = {row.blob_id};
  auto removable = store_->forget_unreferenced_blobs(ids);
  ASSERT_TRUE(removable);
  EXPECT_TRUE(removable->empty());
  EXPECT_TRUE(*store_->blob_known(row.blob_id));
}

TEST_F(BlobReclaimerTest, TheThreadReclaimsWhenWoken) {
  const auto row = deliver("Subject: woken\r\n\r\nwoken\r\n");
  BlobReclaimer reclaimer(*store_, *blobs_, std::chrono::minutes(10));
  reclaimer.start();
  expunge(row);
  reclaimer.wake();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (blobs_->exists(row.blob_id) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(blobs_->exists(row.blob_id));
  reclaimer.stop();
}

}  // namespace
}  // namespace postamt::storage::test
