#pragma once
// AuthThrottle: what failed logins cost (DESIGN.md "Security rules"). Two tables of
// FailureTable (see there for counting, repeated passwords and the memory bound):
// - per client source, an IPv4 address or an IPv6 network of `ipv6_prefix` bits (one
//   subscriber usually holds a whole /64): after max_failures_per_source distinct failures
//   within `lockout` the source is refused for `lockout`, its password not looked at.
//   Sources in a trusted network are never counted nor locked.
// - per account: never a lock (an attacker could lock the owner out), a growing delay
//   before every attempt on the account once it has account_delay_after distinct failures,
//   doubling from account_delay_base up to max_account_delay. A correct password still
//   logs in, late; a success clears the account's count.
// Thread-safe; no clock of its own, every call takes `now`.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/failure_table.hpp"

namespace postamt::net {
class IpNetworkList;
}

namespace postamt::auth {

struct ThrottlePolicy {
  using Duration = std::chrono::steady_clock::duration;
  unsigned max_failures_per_source = 10;  // 0: sources are never locked
  Duration lockout = std::chrono::minutes(5);  // the counting window and the lock's length
  unsigned ipv6_prefix = 64;
  std::vector<std::string> trusted_networks;  // CIDR, validated by the config loader
  unsigned account_delay_after = 3;           // 0: accounts are never slowed
  Duration account_delay_base = std::chrono::seconds(1);
  Duration max_account_delay = std::chrono::seconds(15);
  std::size_t max_tracked = 100'000;  // keys per table
};

// One line of `postamt security locks`.
struct ThrottleEntry {
  enum class Kind { source, account };
  Kind kind = Kind::source;
  std::string key;        // "192.0.2.7", "2001:db8:1:2::/64" or an account address
  unsigned failures = 0;  // distinct failures in the window
  // source: until the lock ends; account: until its failures are forgotten.
  std::chrono::steady_clock::time_point until;
  std::chrono::steady_clock::duration delay{};  // account: the delay now in force
};

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AuthThrottle(ThrottlePolicy policy);
  ~AuthThrottle();

  // The key a client address is counted under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 as
  // its network ("2001:db8:1:2::/64"). Text that is no address is its own key.
  std::string source_key(std::string_view ip) const;
  bool is_trusted(std::string_view ip) const;

  bool is_locked_out(std::string_view ip, Clock::time_point now) const;
  // How long an attempt on this account waits before its password is looked at.
  Clock::duration account_delay(std::string_view account, Clock::time_point now) const;

  // account: the normalised address, or empty when the user name was malformed.
  // true when this failure locked the source (it was not locked before).
  bool record_failure(std::string_view ip, std::string_view account, Fingerprint fingerprint,
                      Clock::time_point now);
  void record_success(std::string_view ip, std::string_view account, Clock::time_point now);

  // The operator's unlock: an address (its source key is lifted), a source key as listed,
  // or an account. true when something was lifted.
  bool unlock(std::string_view ip_or_account);

  // Locked sources and slowed accounts, for the operator.
  std::vector<ThrottleEntry> entries(Clock::time_point now) const;
  // Counts changes to locks and delays (a new lock, a slowed account, an unlock), so that
  // a writer of entries() knows when to write again.
  std::uint64_t changes() const;

  void prune(Clock::time_point now);  // forgets what has expired; call now and then
  std::size_t tracked() const;        // keys in both tables

 private:
  Clock::duration delay_for(unsigned failures) const;

  const ThrottlePolicy policy_;
  std::unique_ptr<net::IpNetworkList> trusted_;
  mutable std::mutex mutex_;
  FailureTable sources_;
  FailureTable accounts_;
  std::uint64_t changes_ = 0;
};

}  // namespace postamt::auth
