// ChangeSignal / MailboxWatchers: a commit on any thread wakes exactly the sessions that
// watch the mailbox, and a wake-up is never lost between the check and the wait.
#include "imap/change_signal.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace postamt::imap {
namespace {

TEST(ChangeSignal, RaiseFromAnotherThreadWakesTheWaiter) {
  asio::io_context io;
  auto signal = std::make_shared<ChangeSignal>(io.get_executor());
  bool woke = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await signal->wait();
    woke = signal->take();
  }, asio::detached);
  io.poll();  // the coroutine is now waiting
  EXPECT_FALSE(woke);
  std::thread committer([&] { signal->raise(); });
  committer.join();
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(woke);
  EXPECT_FALSE(signal->pending());
}

TEST(ChangeSignal, RaisedBeforeTheWaitReturnsAtOnce) {
  asio::io_context io;
  auto signal = std::make_shared<ChangeSignal>(io.get_executor());
  signal->raise();
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await signal->wait();
    done = true;
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(done);
  EXPECT_TRUE(signal->take());
  EXPECT_FALSE(signal->take());
}

TEST(ChangeSignal, InterruptEndsTheWaitWithoutRaising) {
  asio::io_context io;
  auto signal = std::make_shared<ChangeSignal>(io.get_executor());
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await signal->wait();
    done = true;
  }, asio::detached);
  io.poll();
  signal->interrupt();
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(done);
  EXPECT_FALSE(signal->pending());
}

TEST(MailboxWatchers, RaisesOnlyTheWatchersOfChangedMailboxes) {
  asio::io_context io;
  MailboxWatchers watchers;
  auto a = std::make_shared<ChangeSignal>(io.get_executor());
  auto b = std::make_shared<ChangeSignal>(io.get_executor());
  auto c = std::make_shared<ChangeSignal>(io.get_executor());
  watchers.watch(1, a);
  watchers.watch(1, b);
  watchers.watch(2, c);
  const storage::Id changed[] = {1, 3};
  watchers.mailboxes_changed(changed);
  EXPECT_TRUE(a->pending());
  EXPECT_TRUE(b->pending());
  EXPECT_FALSE(c->pending());

  a->take();
  watchers.unwatch(1, a.get());
  b->take();
  watchers.mailboxes_changed(changed);
  EXPECT_FALSE(a->pending());
  EXPECT_TRUE(b->pending());
}

TEST(MailboxWatchers, ForgetsSessionsThatWentAway) {
  asio::io_context io;
  MailboxWatchers watchers;
  {
    auto gone = std::make_shared<ChangeSignal>(io.get_executor());
    watchers.watch(5, gone);
  }
  const storage::Id changed[] = {5};
  watchers.mailboxes_changed(changed);  // must not touch the dead signal
  auto other = std::make_shared<ChangeSignal>(io.get_executor());
  watchers.watch(6, other);
  watchers.unwatch(6, other.get());
  EXPECT_EQ(watchers.watched_mailboxes(), 1u);  // 5 keeps an expired entry until touched
  io.poll();
}

}  // namespace
}  // namespace postamt::imap
