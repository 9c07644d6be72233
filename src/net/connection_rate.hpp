#pragma once
// New connections per client address per minute, checked at accept on every listener
// (issue 15 §4): a client that opens connections faster than the limit is refused with
// the protocol's "too many connections" reply before any session work, so a scanner or a
// spam cannon that reconnects for every message cannot churn sessions. The count is a
// token bucket per address (IPv6 per /64): `per_minute` connections at once, refilled
// at per_minute/60 per second. Trusted networks are never counted. In memory, bounded by
// `max_clients` (about 150 octets each: 100,000 clients ≈ 15 MiB at most; beyond it the
// least recently seen client is forgotten). Thread-safe; the clock comes in.
#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/ip_network.hpp"

namespace postamt::net {

class ConnectionRate {
 public:
  using Clock = std::chrono::steady_clock;
  // per_minute 0: no limit. `trusted`: CIDR networks never limited (validated earlier).
  ConnectionRate(unsigned per_minute, const std::vector<std::string>& trusted,
                 std::size_t max_clients = 100'000);

  // Counts one new connection of `client_ip`; false when the client is over its rate.
  bool admit(std::string_view client_ip, Clock::time_point now);
  std::size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
    std::list<std::string>::iterator recent;
  };
  unsigned per_minute_;
  IpNetworkList trusted_;
  std::size_t max_clients_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> clients_;
  std::list<std::string> recency_;  // front: most recently seen
};

}  // namespace postamt::net
