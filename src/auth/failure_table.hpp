#pragma once
// FailureTable: failed logins counted per key (a client address or an account), the
// building block of AuthThrottle. Not thread-safe (AuthThrottle holds the lock); no clock
// of its own, every call takes `now`.
//
// Rules:
// - Failures count within a window that starts at the first one; after the window a key
//   counts afresh.
// - A repeated wrong password counts once: each failure carries a fingerprint of the
//   presented (account, password) and the last few distinct fingerprints are remembered, so
//   a stale phone retrying one old password every minute does not lock out an office NAT.
// - With lock_after > 0 a key is locked for `window` once its distinct failures reach
//   lock_after.
// - Memory is bounded by max_tracked keys. A locked key is never forgotten before its lock
//   expires: under pressure the least recently touched unlocked key goes, and when every
//   tracked key is locked a failure from a new key is not tracked at all (it still pays the
//   per-failure delay; nothing locked is dropped).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postamt::auth {

using Fingerprint = std::uint64_t;

class FailureTable {
 public:
  using Clock = std::chrono::steady_clock;

  FailureTable(unsigned lock_after, Clock::duration window, std::size_t max_tracked);

  // The key's distinct failures in its window after this one (0 when not tracked).
  unsigned record_failure(std::string_view key, Fingerprint fingerprint, Clock::time_point now);
  // Forgets the key's failures unless it is locked (a success from behind a locked address
  // must not unlock it for a guesser sharing that address).
  void clear_unless_locked(std::string_view key, Clock::time_point now);
  bool is_locked(std::string_view key, Clock::time_point now) const;
  // Distinct failures in the current window (0 once the window has passed).
  unsigned failures(std::string_view key, Clock::time_point now) const;
  bool erase(std::string_view key);  // the operator's unlock
  void prune(Clock::time_point now);
  std::size_t size() const { return entries_.size(); }

  struct View {
    std::string_view key;
    unsigned failures = 0;
    std::optional<Clock::time_point> locked_until;
    Clock::time_point window_end;
  };
  // Every key with failures in its window or a lock in force.
  void visit(Clock::time_point now, const std::function<void(const View&)>& visitor) const;

 private:
  static constexpr std::size_t kRememberedFingerprints = 8;
  struct Entry {
    unsigned failures = 0;
    Clock::time_point window_start;
    std::optional<Clock::time_point> locked_until;
    std::array<Fingerprint, kRememberedFingerprints> recent{};
    std::size_t recent_count = 0;  // ring: the next one goes to recent[recent_count % size]
    bool evictable = true;         // in recency_ (locked entries are not)
    std::list<const std::string*>::iterator recency;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using Map = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;

  bool locked(const Entry& entry, Clock::time_point now) const;
  bool stale(const Entry& entry, Clock::time_point now) const;
  void erase(Map::iterator it);
  void touch(Map::iterator it);

  const unsigned lock_after_;
  const Clock::duration window_;
  const std::size_t max_tracked_;
  Map entries_;
  // Unlocked keys, most recently touched first; points at the keys inside entries_.
  std::list<const std::string*> recency_;
};

}  // namespace postamt::auth
