#include "delivery/group_committer.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "base/metrics.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::delivery {
namespace {

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "postamt-commit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_ = storage::open_sqlite_store(dir_);
    ASSERT_TRUE(store_->add_domain("example.test"));
    auto account = store_->add_account("a@example.test", "{ARGON2ID}$x");
    inbox_ = store_->find_mailbox(account->id, "INBOX")->id;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  storage::DeliveryItem item(char blob) {
    storage::DeliveryItem delivery;
    storage::NewMessage message;
    message.mailbox_id = inbox_;
    message.blob_id = std::string(64, blob);
    message.size = 10;
    delivery.messages.push_back(message);
    return delivery;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::MailStore> store_;
  storage::Id inbox_ = 0;
};

TEST_F(GroupCommitterTest, ConcurrentCommitsShareBatchesAndAllLand) {
  GroupCommitter committer(*store_);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> committed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto outcome = committer.commit_blocking(item("0123456789abcdef"[(t + i) % 16]));
        if (outcome && outcome->stored.size() == 1) ++committed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(committed.load(), kThreads * kPerThread);
  auto rows = store_->list_messages(inbox_);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (std::size_t i = 0; i < rows->size(); ++i) EXPECT_EQ((*rows)[i].uid, i + 1);
}

// A blob store whose sync always fails (a disk that reports write errors): the batch
// must not commit, since its rows would name blobs that may not be on disk.
class FailingSyncBlobStore final : public storage::BlobStore {
 public:
  explicit FailingSyncBlobStore(std::filesystem::path root) : files_(std::move(root)) {}
  storage::StoreResult<storage::BlobRef> put(std::string_view bytes) override { return files_.put(bytes); }
  storage::StoreResult<storage::BlobRef> put_unsynced(std::string_view bytes) override {
    return files_.put_unsynced(bytes);
  }
  storage::StoreResult<void> sync() override {
    ++syncs;
    return storage::storage_error(storage::StorageError::Code::io, "syncfs: Input/output error");
  }
  storage::StoreResult<std::string> read(std::string_view id) override { return files_.read(id); }
  storage::StoreResult<std::string> read_range(std::string_view id, std::uint64_t offset,
                                               std::uint64_t length) override {
    return files_.read_range(id, offset, length);
  }
  bool exists(std::string_view id) override { return files_.exists(id); }
  storage::StoreResult<void> remove(std::string_view id) override { return files_.remove(id); }
  storage::StoreResult<std::vector<std::string>> list() override { return files_.list(); }
  storage::BlobPins& pins() override { return files_.pins(); }
  int syncs = 0;

 private:
  storage::FsBlobStore files_;
};

TEST_F(GroupCommitterTest, ABatchCommitsOnlyAfterItsBlobsAreSynced) {
  storage::FsBlobStore blobs(dir_ / "blobs");
  GroupCommitter committer(*store_, &blobs);
  EXPECT_EQ(committer.blob_durability(), BlobDurability::with_group_commit);
  MessagePreparer preparer(*store_, blobs, committer.blob_durability());
  IncomingMessage message;
  message.content = "Subject: s\r\n\r\nbody\r\n";
  Resolution resolution;
  resolution.kind = Resolution::Kind::local;
  resolution.local.push_back({store_->find_account("a@example.test")->id, "a@example.test"});
  message.recipients.push_back({"a@example.test", resolution, "", "", ""});
  auto prepared = preparer.prepare(message);
  ASSERT_TRUE(prepared);
  auto outcome = committer.commit_blocking(std::move(*prepared));
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(store_->list_messages(inbox_)->size(), 1u);

  FailingSyncBlobStore failing(dir_ / "blobs");
  GroupCommitter refusing(*store_, &failing);
  auto again = MessagePreparer(*store_, failing, refusing.blob_durability()).prepare(message);
  ASSERT_TRUE(again);
  auto refused = refusing.commit_blocking(std::move(*again));
  ASSERT_FALSE(refused);
  EXPECT_EQ(failing.syncs, 1);
  EXPECT_EQ(store_->list_messages(inbox_)->size(), 1u) << "nothing committed without the sync";
  EXPECT_EQ(GroupCommitter(*store_).blob_durability(), BlobDurability::immediate);
}

TEST_F(GroupCommitterTest, AwaitableCommitResumesOnTheCallersExecutor) {
  GroupCommitter committer(*store_);
  asio::io_context io;
  const auto io_thread = std::this_thread::get_id();
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto delivery = item('a');
    auto outcome = co_await committer.commit(delivery);
    EXPECT_TRUE(outcome);
    EXPECT_EQ(std::this_thread::get_id(), io_thread);
    storage::DeliveryItem broken;
    storage::NewMessage bad;
    bad.mailbox_id = inbox_ + 99;
    bad.blob_id = std::string(64, 'b');
    broken.messages.push_back(bad);
    auto failed = co_await committer.commit(broken);
    EXPECT_FALSE(failed);
    done = true;
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(done);
}

TEST_F(GroupCommitterTest, StopCommitsWhatIsQueuedThenRefuses) {
  auto committer = std::make_unique<GroupCommitter>(*store_);
  EXPECT_TRUE(committer->commit_blocking(item('c')));
  committer->stop();
  auto refused = committer->commit_blocking(item('d'));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().temporary());
}

}  // namespace
}  // namespace postamt::delivery
