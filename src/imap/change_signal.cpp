#include "imap/change_signal.hpp"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace postamt::imap {

ChangeSignal::ChangeSignal(asio::any_io_executor executor)
    : executor_(executor), timer_(executor, asio::steady_timer::time_point::max()) {}

void ChangeSignal::raise() {
  pending_.store(true);
  // The timer belongs to the session's executor; wake it there. A wait that begins after
  // this sees the flag first and does not sleep.
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->timer_.cancel();
  });
}

asio::awaitable<void> ChangeSignal::wait() {
  if (pending_.load()) co_return;
  timer_.expires_at(asio::steady_timer::time_point::max());
  std::error_code ignored;  // cancellation is the wake-up itself
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

void MailboxWatchers::watch(storage::Id mailbox_id, const std::shared_ptr<ChangeSignal>& signal) {
  std::lock_guard lock(mutex_);
  auto& list = watchers_[mailbox_id];
  std::erase_if(list, [](const auto& weak) { return weak.expired(); });
  list.push_back(signal);
}

void MailboxWatchers::unwatch(storage::Id mailbox_id, const ChangeSignal* signal) {
  std::lock_guard lock(mutex_);
  auto it = watchers_.find(mailbox_id);
  if (it == watchers_.end()) return;
  std::erase_if(it->second, [signal](const auto& weak) {
    auto locked = weak.lock();
    return !locked || locked.get() == signal;
  });
  if (it->second.empty()) watchers_.erase(it);
}

void MailboxWatchers::mailboxes_changed(std::span<const storage::Id> mailbox_ids) {
  std::vector<std::shared_ptr<ChangeSignal>> to_raise;
  {
    std::lock_guard lock(mutex_);
    for (storage::Id id : mailbox_ids) {
      auto it = watchers_.find(id);
      if (it == watchers_.end()) continue;
      for (const auto& weak : it->second) {
        if (auto signal = weak.lock()) to_raise.push_back(std::move(signal));
      }
    }
  }
  for (const auto& signal : to_raise) signal->raise();
}

std::size_t MailboxWatchers::watched_mailboxes() const {
  std::lock_guard lock(mutex_);
  return watchers_.size();
}

}  // namespace postamt::imap
