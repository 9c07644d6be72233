#include "auth/auth_throttle.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "net/ip_network.hpp"

namespace postamt::auth {

AuthThrottle::AuthThrottle(ThrottlePolicy policy)
    : policy_(std::move(policy)),
      trusted_(std::make_unique<net::IpNetworkList>(policy_.trusted_networks)),
      sources_(policy_.max_failures_per_source, policy_.lockout, policy_.max_tracked),
      accounts_(0, policy_.lockout, policy_.max_tracked) {}

AuthThrottle::~AuthThrottle() = default;

std::string AuthThrottle::source_key(std::string_view ip) const {
  const std::string text(ip);
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return text;  // IPv4, or not an address
  static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), bytes.begin())) {
    char v4[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, bytes.data() + 12, v4, sizeof v4);
    return v4;
  }
  const unsigned prefix = std::min(policy_.ipv6_prefix, 128u);
  for (unsigned bit = prefix; bit < 128; ++bit) bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char v6[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, bytes.data(), v6, sizeof v6);
  return prefix == 128 ? std::string(v6) : std::string(v6) + "/" + std::to_string(prefix);
}

bool AuthThrottle::is_trusted(std::string_view ip) const { return trusted_->contains(ip); }

bool AuthThrottle::is_locked_out(std::string_view ip, Clock::time_point now) const {
  if (is_trusted(ip)) return false;
  const std::string key = source_key(ip);
  std::lock_guard lock(mutex_);
  return sources_.is_locked(key, now);
}

AuthThrottle::Clock::duration AuthThrottle::delay_for(unsigned failures) const {
  if (policy_.account_delay_after == 0 || failures < policy_.account_delay_after) return {};
  // Doubling per failure past the threshold; the shift is capped so it cannot overflow.
  const unsigned doublings = std::min(failures - policy_.account_delay_after, 20u);
  return std::min(policy_.account_delay_base * (1u << doublings), policy_.max_account_delay);
}

AuthThrottle::Clock::duration AuthThrottle::account_delay(std::string_view account,
                                                          Clock::time_point now) const {
  if (account.empty()) return {};
  std::lock_guard lock(mutex_);
  return delay_for(accounts_.failures(account, now));
}

bool AuthThrottle::record_failure(std::string_view ip, std::string_view account, Fingerprint fingerprint,
                                  Clock::time_point now) {
  const bool trusted = is_trusted(ip);
  const std::string key = source_key(ip);
  std::lock_guard lock(mutex_);
  bool locked = false;
  if (!trusted && policy_.max_failures_per_source > 0) {
    const bool was_locked = sources_.is_locked(key, now);
    sources_.record_failure(key, fingerprint, now);
    locked = !was_locked && sources_.is_locked(key, now);
    if (locked) ++changes_;
  }
  if (!account.empty() && policy_.account_delay_after > 0) {
    const unsigned before = accounts_.failures(account, now);
    const unsigned after = accounts_.record_failure(account, fingerprint, now);
    if (after != before && delay_for(after) != Clock::duration{}) ++changes_;  // a slowed account's count
  }
  return locked;
}

void AuthThrottle::record_success(std::string_view ip, std::string_view account, Clock::time_point now) {
  const std::string key = source_key(ip);
  std::lock_guard lock(mutex_);
  sources_.clear_unless_locked(key, now);
  if (!account.empty()) {
    if (delay_for(accounts_.failures(account, now)) != Clock::duration{}) ++changes_;
    accounts_.erase(account);
  }
}

bool AuthThrottle::unlock(std::string_view ip_or_account) {
  const std::string key = source_key(ip_or_account);
  std::lock_guard lock(mutex_);
  bool lifted = sources_.erase(key);
  lifted = sources_.erase(ip_or_account) || lifted;  // a key as `security locks` lists it
  lifted = accounts_.erase(ip_or_account) || lifted;
  if (lifted) ++changes_;
  return lifted;
}

std::vector<ThrottleEntry> AuthThrottle::entries(Clock::time_point now) const {
  std::vector<ThrottleEntry> result;
  std::lock_guard lock(mutex_);
  sources_.visit(now, [&](const FailureTable::View& view) {
    if (!view.locked_until) return;
    result.push_back({ThrottleEntry::Kind::source, std::string(view.key), view.failures, *view.locked_until, {}});
  });
  accounts_.visit(now, [&](const FailureTable::View& view) {
    const auto delay = delay_for(view.failures);
    if (delay == Clock::duration{}) return;
    result.push_back({ThrottleEntry::Kind::account, std::string(view.key), view.failures, view.window_end, delay});
  });
  std::ranges::sort(result, [](const ThrottleEntry& a, const ThrottleEntry& b) {
    return std::tie(a.kind, a.key) < std::tie(b.kind, b.key);
  });
  return result;
}

std::uint64_t AuthThrottle::changes() const {
  std::lock_guard lock(mutex_);
  return changes_;
}

void AuthThrottle::prune(Clock::time_point now) {
  // Not a change for changes(): readers of the list skip what has expired by its time.
  std::lock_guard lock(mutex_);
  sources_.prune(now);
  accounts_.prune(now);
}

std::size_t AuthThrottle::tracked() const {
  std::lock_guard lock(mutex_);
  return sources_.size() + accounts_.size();
}

}  // namespace postamt::auth
