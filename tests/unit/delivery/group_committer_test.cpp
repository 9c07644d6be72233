#include "delivery/group_committer.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "base/metrics.hpp"
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
