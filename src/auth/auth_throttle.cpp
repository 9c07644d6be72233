#include "auth/auth_throttle.hpp"

#include <algorithm>
#include <limits>

namespace postamt::auth {

AuthThrottle::AuthThrottle(unsigned max_failures, Clock::duration lockout, std::size_t max_tracked)
    : max_failures_(max_failures),
      lockout_(lockout),
      max_tracked_(std::max<std::size_t>(max_tracked, 1)) {}

bool AuthThrottle::locked(const Entry& entry, Clock::time_point now) const {
  return entry.locked_until.has_value() && now < *entry.locked_until;
}

bool AuthThrottle::stale(const Entry& entry, Clock::time_point now) const {
  return !locked(entry, now) && now - entry.window_start >= lockout_;
}

void AuthThrottle::erase(Map::iterator it) {
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

void AuthThrottle::record_failure(std::string_view key, Clock::time_point now) {
  if (max_failures_ == 0) return;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_tracked_) {
      // Bounded memory: forget the key touched longest ago.
      erase(entries_.find(*recency_.back()));
    }
    it = entries_.emplace(std::string(key), Entry{}).first;
    recency_.push_front(&it->first);
    it->second.recency = recency_.begin();
    it->second.window_start = now;
  } else {
    recency_.splice(recency_.begin(), recency_, it->second.recency);
  }
  Entry& entry = it->second;
  if (stale(entry, now)) {  // the window (and any lockout) is over: count afresh
    entry.failures = 0;
    entry.window_start = now;
    entry.locked_until.reset();
  }
  if (entry.failures < std::numeric_limits<unsigned>::max()) ++entry.failures;
  if (entry.failures >= max_failures_ && !locked(entry, now)) entry.locked_until = now + lockout_;
}

void AuthThrottle::record_success(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || locked(it->second, now)) return;
  erase(it);
}

bool AuthThrottle::is_locked_out(std::string_view key, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  return it != entries_.end() && locked(it->second, now);
}

void AuthThrottle::prune(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (stale(it->second, now)) erase(it);
    it = next;
  }
}

std::size_t AuthThrottle::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace postamt::auth
