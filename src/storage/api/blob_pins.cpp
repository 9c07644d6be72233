#include "storage/api/blob_pins.hpp"

#include <algorithm>
#include <utility>

namespace postamt::storage {

void BlobPins::hold(std::string_view blob_id) {
  std::unique_lock lock(mutex_);
  std::string id(blob_id);
  unfenced_.wait(lock, [&] { return !fenced_.contains(id); });
  ++holds_[std::move(id)].count;
}

void BlobPins::release(std::string_view blob_id, After after) {
  bool queued = false;
  std::function<void()> listener;
  {
    std::lock_guard lock(mutex_);
    auto it = holds_.find(std::string(blob_id));
    if (it == holds_.end()) return;  // not held: nothing to release
    Hold& hold = it->second;
    hold.check = hold.check || after == After::check;
    if (--hold.count > 0) return;
    if (hold.check && released_.size() < kMaxQueued) {
      released_.push_back(it->first);
      queued = true;
      listener = listener_;
    }
    holds_.erase(it);
  }
  if (queued && listener) listener();
}

std::vector<std::string> BlobPins::fence(std::vector<std::string> candidates) {
  std::ranges::sort(candidates);
  const auto [first, last] = std::ranges::unique(candidates);
  candidates.erase(first, last);
  std::lock_guard lock(mutex_);
  std::erase_if(candidates, [&](const std::string& id) { return holds_.contains(id) || fenced_.contains(id); });
  for (const std::string& id : candidates) fenced_.insert(id);
  return candidates;
}

void BlobPins::unfence(std::span<const std::string> blob_ids) {
  {
    std::lock_guard lock(mutex_);
    for (const std::string& id : blob_ids) fenced_.erase(id);
  }
  unfenced_.notify_all();
}

std::vector<std::string> BlobPins::take_released() {
  std::lock_guard lock(mutex_);
  return std::exchange(released_, {});
}

void BlobPins::requeue(std::span<const std::string> blob_ids) {
  std::lock_guard lock(mutex_);
  for (const std::string& id : blob_ids) {
    if (released_.size() >= kMaxQueued) break;
    released_.push_back(id);
  }
}

void BlobPins::set_release_listener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

std::size_t BlobPins::held() const {
  std::lock_guard lock(mutex_);
  return holds_.size();
}

}  // namespace postamt::storage
