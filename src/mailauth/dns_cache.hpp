#pragma once
// DnsCache: the answers of sender authentication's lookups, kept for their DNS TTL and
// shared by every I/O thread (one mutex; each call holds it for a map look-up only).
// Bounded: at most `capacity` entries and `byte_budget` octets of record text (an answer
// may hold 16 KiB, so 10,000 entries alone could be 160 MiB), the least recently used
// goes first. Negative answers
// (NXDOMAIN, NODATA) are kept like positive ones (RFC 2308 §5); a server's failure
// (SERVFAIL, REFUSED, an unreadable answer) only for kFailureTtl, so a flood of mail from
// one broken domain does not ask again for each message; a timeout is never kept.
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "proto/mailauth/dns_question.hpp"

namespace postamt::mailauth {

class DnsCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kDefaultCapacity = 10'000;
  static constexpr std::size_t kDefaultByteBudget = 16 * 1024 * 1024;
  static constexpr std::uint32_t kMaxTtl = 86'400;  // a day, whatever the zone says
  static constexpr std::uint32_t kFailureTtl = 5;

  explicit DnsCache(std::size_t capacity = kDefaultCapacity, std::function<Clock::time_point()> now = {},
                    std::size_t byte_budget = kDefaultByteBudget);

  // The answer while it is fresh, its ttl lowered to the seconds it has left.
  std::optional<DnsAnswer> find(const DnsQuestion& question);
  void store(const DnsQuestion& question, const DnsAnswer& answer);
  std::size_t size() const;
  std::size_t bytes() const;  // record text held, with the keys

  // The key of a question: type and lower-case name without a trailing dot.
  static std::string key_of(const DnsQuestion& question);

 private:
  struct Entry {
    std::string key;
    DnsAnswer answer;
    Clock::time_point expires;
    std::size_t bytes = 0;
  };

  void drop(std::list<Entry>::iterator entry);

  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  std::size_t capacity_;
  std::size_t byte_budget_;
  std::size_t bytes_ = 0;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace postamt::mailauth
