#pragma once
// AuthThrottle: refuses a client after too many failed logins (DESIGN.md "Security rules":
// failed logins are throttled per IP and per account). Pure logic: no clock of its own,
// every call takes `now`. Keys are opaque strings: an IP address, or an account name for
// a per-account throttle (use a second instance). Thread-safe; memory is bounded by
// `max_tracked` keys, the least recently touched key being forgotten first.
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postamt::auth {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kDefaultMaxTracked = 100'000;

  // After `max_failures` failures within `lockout` of the first one, the key is locked out
  // for `lockout`. max_failures == 0 disables the throttle.
  AuthThrottle(unsigned max_failures, Clock::duration lockout,
               std::size_t max_tracked = kDefaultMaxTracked);

  void record_failure(std::string_view key, Clock::time_point now);
  // Clears the failure count; an active lockout stays until it expires (a success from
  // behind the same address must not unlock it for a guesser sharing that address).
  void record_success(std::string_view key, Clock::time_point now);
  bool is_locked_out(std::string_view key, Clock::time_point now) const;

  // Forgets keys whose window and lockout have both passed (call now and then).
  void prune(Clock::time_point now);
  std::size_t tracked() const;

 private:
  struct Entry {
    unsigned failures = 0;
    Clock::time_point window_start;
    std::optional<Clock::time_point> locked_until;
    std::list<const std::string*>::iterator recency;  // position in recency_
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  using Map = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;

  bool locked(const Entry& entry, Clock::time_point now) const;
  bool stale(const Entry& entry, Clock::time_point now) const;
  void erase(Map::iterator it);

  const unsigned max_failures_;
  const Clock::duration lockout_;
  const std::size_t max_tracked_;
  mutable std::mutex mutex_;
  Map entries_;
  // Most recently touched first; points at the keys inside entries_ (stable node keys).
  std::list<const std::string*> recency_;
};

}  // namespace postamt::auth
