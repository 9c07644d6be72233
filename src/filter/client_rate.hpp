#pragma once
// Messages per client address per hour on port 25 (issue 15 §4): beyond the limit a
// message is deferred (451 4.7.1) until the client's oldest message of the hour is an
// hour old. Counted in one-minute buckets per address (IPv6 per /64), in memory, bounded
// by `max_clients` (about 600 octets each: 100,000 clients ≈ 60 MiB at most; beyond it
// the least recently seen client is forgotten). Thread-safe; the clock comes in.
#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "filter/filter.hpp"

namespace postamt::filter {

class ClientRate {
 public:
  using Clock = std::chrono::steady_clock;
  ClientRate(unsigned per_hour, std::size_t max_clients = 100'000) : per_hour_(per_hour), max_clients_(max_clients) {}

  // Counts one message of `client_ip` unless it is over the limit; false when it is.
  bool admit(std::string_view client_ip, Clock::time_point now);
  std::size_t clients() const;

 private:
  static constexpr std::size_t kBuckets = 60;  // one per minute of the hour
  struct Client {
    std::array<std::uint32_t, kBuckets> counts{};
    std::int64_t minute = 0;  // the minute the newest bucket belongs to
    std::list<std::string>::iterator recent;
  };
  unsigned per_hour_;
  std::size_t max_clients_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Client> clients_;
  std::list<std::string> recency_;  // front: most recently seen
};

std::unique_ptr<Filter> make_client_rate_filter(std::shared_ptr<ClientRate> rate);

}  // namespace postamt::filter
