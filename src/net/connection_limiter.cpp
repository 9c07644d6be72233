#include "net/connection_limiter.hpp"

namespace postamt::net {

ConnectionLimiter::ConnectionLimiter(unsigned max_total, unsigned max_per_ip,
                                     unsigned max_unauthenticated,
                                     unsigned max_unauthenticated_per_ip)
    : max_total_(max_total),
      max_per_ip_(max_per_ip),
      max_unauthenticated_(max_unauthenticated),
      max_unauthenticated_per_ip_(max_unauthenticated_per_ip) {}

ConnectionLimiter::Decision ConnectionLimiter::try_acquire(const std::string& ip) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return {std::nullopt, Refusal::total};
  if (unauthenticated_ >= max_unauthenticated_) return {std::nullopt, Refusal::unauthenticated};
  auto& counts = per_ip_[ip];
  std::optional<Refusal> refusal;
  if (counts.all >= max_per_ip_) {
    refusal = Refusal::per_ip;
  } else if (counts.unauthenticated >= max_unauthenticated_per_ip_) {
    refusal = Refusal::unauthenticated_per_ip;
  }
  if (refusal) {
    if (counts.all == 0) per_ip_.erase(ip);
    return {std::nullopt, *refusal};
  }
  ++counts.all;
  ++counts.unauthenticated;
  ++total_;
  ++unauthenticated_;
  return {Slot(this, ip), Refusal::total};
}

void ConnectionLimiter::authenticate(const std::string& ip) {
  std::lock_guard lock(mutex_);
  --unauthenticated_;
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end()) --it->second.unauthenticated;
}

void ConnectionLimiter::release(const std::string& ip, bool authenticated) {
  std::lock_guard lock(mutex_);
  --total_;
  if (!authenticated) --unauthenticated_;
  auto it = per_ip_.find(ip);
  if (it == per_ip_.end()) return;
  if (!authenticated) --it->second.unauthenticated;
  if (--it->second.all == 0) per_ip_.erase(it);
}

std::size_t ConnectionLimiter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t ConnectionLimiter::unauthenticated_total() const {
  std::lock_guard lock(mutex_);
  return unauthenticated_;
}

std::size_t ConnectionLimiter::count_for(const std::string& ip) const {
  std::lock_guard lock(mutex_);
  auto it = per_ip_.find(ip);
  return it == per_ip_.end() ? 0 : it->second.all;
}

std::string_view refusal_name(ConnectionLimiter::Refusal refusal) {
  switch (refusal) {
    case ConnectionLimiter::Refusal::total: return "total";
    case ConnectionLimiter::Refusal::per_ip: return "per_ip";
    case ConnectionLimiter::Refusal::unauthenticated: return "unauthenticated";
    case ConnectionLimiter::Refusal::unauthenticated_per_ip: return "unauthenticated_per_ip";
  }
  return "total";
}

}  // namespace postamt::net
