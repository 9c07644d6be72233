#pragma once
// ChangeSignal and MailboxWatchers: how a commit in the store reaches the IMAP sessions
// that have the mailbox selected, without any polling.
//
// The store calls MailboxWatchers::mailboxes_changed() after each commit (on whatever
// thread committed). Every session watching one of those mailboxes gets its ChangeSignal
// raised: a flag the session checks before it answers a command, and a wake-up for a
// session waiting in IDLE. The signal only says "look again"; what changed is read from
// the store (SelectedMailbox::apply), so a lost or repeated signal costs nothing.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "storage/api/types.hpp"

namespace postamt::imap {

class ChangeSignal : public std::enable_shared_from_this<ChangeSignal> {
 public:
  explicit ChangeSignal(asio::any_io_executor executor);

  // Thread-safe.
  void raise();
  // On the session's executor: whether the signal was raised since the last take().
  bool take() { return pending_.exchange(false); }
  bool pending() const { return pending_.load(); }
  // On the session's executor: returns once raised (at once if it already is) or when
  // interrupt() is called. Does not clear the signal.
  asio::awaitable<void> wait();
  // On the session's executor: ends a wait() without raising the signal.
  void interrupt() { timer_.cancel(); }

 private:
  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  std::atomic<bool> pending_{false};
};

class MailboxWatchers {
 public:
  void watch(storage::Id mailbox_id, const std::shared_ptr<ChangeSignal>& signal);
  void unwatch(storage::Id mailbox_id, const ChangeSignal* signal);
  // Thread-safe; the store's change listener.
  void mailboxes_changed(std::span<const storage::Id> mailbox_ids);
  std::size_t watched_mailboxes() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<storage::Id, std::vector<std::weak_ptr<ChangeSignal>>> watchers_;
};

}  // namespace postamt::imap
