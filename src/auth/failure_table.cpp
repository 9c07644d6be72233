#include "auth/failure_table.hpp"

#include <algorithm>
#include <limits>

namespace postamt::auth {

FailureTable::FailureTable(unsigned lock_after, Clock::duration window, std::size_t max_tracked)
    : lock_after_(lock_after), window_(window), max_tracked_(std::max<std::size_t>(max_tracked, 1)) {}

bool FailureTable::locked(const Entry& entry, Clock::time_point now) const {
  return entry.locked_until.has_value() && now < *entry.locked_until;
}

bool FailureTable::stale(const Entry& entry, Clock::time_point now) const {
  return !locked(entry, now) && now - entry.window_start >= window_;
}

void FailureTable::erase(Map::iterator it) {
  if (it->second.evictable) recency_.erase(it->second.recency);
  entries_.erase(it);
}

// Moves an unlocked entry to the front of recency_, takes a locked one out of it.
void FailureTable::touch(Map::iterator it) {
  Entry& entry = it->second;
  const bool should_be_evictable = !entry.locked_until.has_value();
  if (entry.evictable && should_be_evictable) {
    recency_.splice(recency_.begin(), recency_, entry.recency);
  } else if (entry.evictable) {
    recency_.erase(entry.recency);
    entry.evictable = false;
  } else if (should_be_evictable) {
    recency_.push_front(&it->first);
    entry.recency = recency_.begin();
    entry.evictable = true;
  }
}

unsigned FailureTable::record_failure(std::string_view key, Fingerprint fingerprint,
                                      Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_tracked_ && recency_.empty()) prune(now);  // expired locks
    if (entries_.size() >= max_tracked_) {
      if (recency_.empty()) return 0;  // every tracked key is locked: keep them all
      erase(entries_.find(*recency_.back()));
    }
    it = entries_.emplace(std::string(key), Entry{}).first;
    it->second.window_start = now;
    recency_.push_front(&it->first);
    it->second.recency = recency_.begin();
  }
  Entry& entry = it->second;
  if (stale(entry, now)) {  // the window (and any lock) is over: count afresh
    entry.failures = 0;
    entry.window_start = now;
    entry.locked_until.reset();
    entry.recent_count = 0;
  }
  const std::size_t remembered = std::min(entry.recent_count, kRememberedFingerprints);
  const bool repeated =
      std::find(entry.recent.begin(), entry.recent.begin() + static_cast<std::ptrdiff_t>(remembered),
                fingerprint) != entry.recent.begin() + static_cast<std::ptrdiff_t>(remembered);
  if (!repeated) {
    entry.recent[entry.recent_count % kRememberedFingerprints] = fingerprint;
    ++entry.recent_count;
    if (entry.failures < std::numeric_limits<unsigned>::max()) ++entry.failures;
  }
  if (lock_after_ > 0 && entry.failures >= lock_after_ && !locked(entry, now)) {
    entry.locked_until = now + window_;
  }
  touch(it);
  return entry.failures;
}

void FailureTable::clear_unless_locked(std::string_view key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || locked(it->second, now)) return;
  erase(it);
}

bool FailureTable::is_locked(std::string_view key, Clock::time_point now) const {
  const auto it = entries_.find(key);
  return it != entries_.end() && locked(it->second, now);
}

unsigned FailureTable::failures(std::string_view key, Clock::time_point now) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() || stale(it->second, now)) return 0;
  return it->second.failures;
}

bool FailureTable::erase(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  erase(it);
  return true;
}

void FailureTable::prune(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (stale(it->second, now)) erase(it);
    it = next;
  }
}

void FailureTable::visit(Clock::time_point now, const std::function<void(const View&)>& visitor) const {
  for (const auto& [key, entry] : entries_) {
    if (stale(entry, now)) continue;
    View view{key, entry.failures, std::nullopt, entry.window_start + window_};
    if (locked(entry, now)) view.locked_until = entry.locked_until;
    visitor(view);
  }
}

}  // namespace postamt::auth
