#include "imap/header_cache.hpp"

namespace postamt::imap {

std::optional<std::string> HeaderCache::find(std::string_view blob_id) {
  std::lock_guard lock(mutex_);
  const auto it = by_blob_.find(blob_id);
  if (it == by_blob_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);  // iterators stay valid
  return it->second->header;
}

void HeaderCache::insert(std::string_view blob_id, std::string_view header) {
  Entry entry{std::string(blob_id), std::string(header)};
  const std::size_t size = cost(entry);
  if (size > max_bytes_ / 16) return;
  std::lock_guard lock(mutex_);
  if (by_blob_.contains(blob_id)) return;  // the same blob has the same header
  entries_.push_front(std::move(entry));
  by_blob_.emplace(entries_.front().blob_id, entries_.begin());
  bytes_ += size;
  while (bytes_ > max_bytes_ && !entries_.empty()) {
    const Entry& oldest = entries_.back();
    bytes_ -= cost(oldest);
    by_blob_.erase(oldest.blob_id);
    entries_.pop_back();
  }
}

std::size_t HeaderCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t HeaderCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace postamt::imap
