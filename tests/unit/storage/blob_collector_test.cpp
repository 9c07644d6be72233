#include "storage/api/blob_collector.hpp"

#include <gtest/gtest.h>

#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "temp_dir.hpp"

namespace postamt::storage::test {
namespace {

class BlobCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_sqlite_store(dir_.path() / "data");
    blobs_ = std::make_unique<FsBlobStore>(dir_.path() / "data" / "blobs");
    ASSERT_TRUE(store_->add_domain("example.test"));
    auto account = store_->add_account("a@example.test", "{ARGON2ID}$x");
    ASSERT_TRUE(account);
    auto inbox = store_->find_mailbox(account->id, "INBOX");
    ASSERT_TRUE(inbox);
    inbox_ = inbox->id;
  }

  MessageRecord deliver(std::string_view content) {
    auto blob = blobs_->put(content);
    EXPECT_TRUE(blob);
    NewMessage message;
    message.mailbox_id = inbox_;
    message.blob_id = blob->id;
    message.size = blob->size;
    auto rows = store_->append_messages(std::span<const NewMessage>(&message, 1));
    EXPECT_TRUE(rows);
    return rows->front();
  }

  TempDir dir_;
  std::unique_ptr<MailStore> store_;
  std::unique_ptr<BlobStore> blobs_;
  Id inbox_ = 0;
};

TEST_F(BlobCollectorTest, ConsistentStorePassesTheCheck) {
  deliver("Subject: a\r\n\r\none\r\n");
  deliver("Subject: b\r\n\r\ntwo\r\n");
  auto report = check_consistency(*store_, *blobs_);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->messages, 2u);
  EXPECT_EQ(report->blob_files, 2u);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

TEST_F(BlobCollectorTest, OrphanAndUnreferencedBlobsAreCollected) {
  const auto kept = deliver("Subject: keep\r\n\r\nkeep\r\n");
  const auto dropped = deliver("Subject: drop\r\n\r\ndrop\r\n");
  ASSERT_TRUE(blobs_->put("written before a crash, never committed"));
  const std::uint32_t uids[] = {dropped.uid};
  ASSERT_TRUE(store_->expunge(inbox_, uids));

  auto before = check_consistency(*store_, *blobs_);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->problems.size(), 2u);  // the orphan and the expunged message's file

  auto collected = collect_blobs(*store_, *blobs_);
  ASSERT_TRUE(collected);
  EXPECT_EQ(collected->removed_unreferenced, 1u);
  EXPECT_EQ(collected->removed_orphans, 1u);
  EXPECT_TRUE(blobs_->exists(kept.blob_id));
  EXPECT_FALSE(blobs_->exists(dropped.blob_id));

  auto after = check_consistency(*store_, *blobs_);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->problems.empty());
  EXPECT_EQ(after->blob_files, 1u);
}

TEST_F(BlobCollectorTest, MissingOrDamagedBlobIsReported) {
  const auto message = deliver("Subject: x\r\n\r\nbody\r\n");
  ASSERT_TRUE(blobs_->remove(message.blob_id));
  auto report = check_consistency(*store_, *blobs_);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace postamt::storage::test
