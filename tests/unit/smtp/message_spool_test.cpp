// MessageSpool: the end-of-data edit (fields put first, forged ones dropped) gives the same
// stored bytes whether the message stayed in memory or went to a spool file.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <filesystem>

#include "net/blocking_pool.hpp"
#include "smtp/message_spool.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"

namespace postamt::smtp {
namespace {

class MessageSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("spool-test-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    blobs_ = std::make_unique<storage::FsBlobStore>(dir_);
  }
  void TearDown() override {
    blobs_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The stored bytes of `message` after the edit, through a spool of `memory_limit`.
  std::string stored(const std::string& message, std::size_t memory_limit, MessageSpool::HeadEdit edit) {
    MessageSpool spool(*blobs_, pool_, memory_limit);
    std::string result;
    bool on_disk = false;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      spool.start("Received: by test\r\n");
      for (std::size_t at = 0; at < message.size(); at += 4000) co_await spool.append(std::string_view(message).substr(at, 4000));
      on_disk = spool.on_disk();
      auto finished = co_await spool.finish(edit);
      EXPECT_TRUE(finished.has_value());
      if (!finished) co_return;
      if (finished->spooled) {
        auto view = finished->spooled->view();
        EXPECT_TRUE(view.has_value());
        if (view) result = std::string(*view);
      } else {
        result = finished->content;
      }
    }, asio::detached);
    io_.restart();
    io_.run();
    EXPECT_EQ(on_disk, message.size() > memory_limit);
    return result;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::FsBlobStore> blobs_;
  net::BlockingPool pool_{1};
  asio::io_context io_;
};

TEST_F(MessageSpoolTest, EditIsTheSameInMemoryAndOnDisk) {
  const std::string head = "Authentication-Results: mail.example.test; dmarc=pass\r\nFrom: a@example.org\r\n"
                           "Subject: hi\r\n\r\n";
  const std::string body(200 * 1024, 'x');
  const std::string message = head + body;
  const std::size_t forged_end = head.find("From:");
  MessageSpool::HeadEdit edit{"Authentication-Results: mail.example.test; dmarc=fail\r\n", {{0, forged_end, ""}}};
  const std::string expected = "Received: by test\r\nAuthentication-Results: mail.example.test; dmarc=fail\r\n" +
                               message.substr(forged_end);
  EXPECT_EQ(stored(message, 1024 * 1024, edit), expected);  // in memory
  EXPECT_EQ(stored(message, 8 * 1024, edit), expected);     // spilled to a file, copied once
  EXPECT_EQ(stored(message, 8 * 1024, {}), "Received: by test\r\n" + message);  // untouched
}

}  // namespace
}  // namespace postamt::smtp
