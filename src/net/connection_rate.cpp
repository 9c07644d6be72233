#include "net/connection_rate.hpp"

#include <algorithm>

namespace postamt::net {

ConnectionRate::ConnectionRate(unsigned per_minute, const std::vector<std::string>& trusted,
                               std::size_t max_clients)
    : per_minute_(per_minute), trusted_(trusted), max_clients_(std::max<std::size_t>(max_clients, 1)) {}

bool ConnectionRate::admit(std::string_view client_ip, Clock::time_point now) {
  if (per_minute_ == 0 || trusted_.contains(client_ip)) return true;
  const std::string key = client_network_key(client_ip);
  const double capacity = per_minute_;
  std::lock_guard lock(mutex_);
  auto found = clients_.find(key);
  if (found == clients_.end()) {
    if (clients_.size() >= max_clients_) {
      clients_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(key);
    found = clients_.emplace(key, Bucket{capacity, now, recency_.begin()}).first;
  } else {
    recency_.splice(recency_.begin(), recency_, found->second.recent);
  }
  Bucket& bucket = found->second;
  if (now > bucket.updated) {
    const double seconds = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(capacity, bucket.tokens + seconds * capacity / 60.0);
    bucket.updated = now;
  }
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

std::size_t ConnectionRate::clients() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

}  // namespace postamt::net
