#include "net/connection_limiter.hpp"

namespace postamt::net {

ConnectionLimiter::ConnectionLimiter(unsigned max_total, unsigned max_per_ip)
    : max_total_(max_total), max_per_ip_(max_per_ip) {}

ConnectionLimiter::Decision ConnectionLimiter::try_acquire(const std::string& ip) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return {std::nullopt, Refusal::total};
  auto& count = per_ip_[ip];
  if (count >= max_per_ip_) {
    if (count == 0) per_ip_.erase(ip);
    return {std::nullopt, Refusal::per_ip};
  }
  ++count;
  ++total_;
  return {Slot(this, ip), Refusal::total};
}

void ConnectionLimiter::release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  --total_;
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

std::size_t ConnectionLimiter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t ConnectionLimiter::count_for(const std::string& ip) const {
  std::lock_guard lock(mutex_);
  auto it = per_ip_.find(ip);
  return it == per_ip_.end() ? 0 : it->second;
}

}  // namespace postamt::net
