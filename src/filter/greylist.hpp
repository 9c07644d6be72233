#pragma once
// Greylisting (RFC 6647; issue 15 §4, off by default): the first message of a new
// (client network, sender, recipient) triplet is deferred with 451 4.7.1; the same triplet
// retried after `delay` and within `retry_window` passes, and from then on the client's
// network passes without delay (auto-allow) for `allow_lifetime`. Real MTAs retry; much
// spam software does not.
//
// In memory, bounded by `max_entries` (about 150 octets each: 200,000 entries ≈ 30 MiB);
// a restart forgets (a legitimate sender is then delayed once more, never refused).
// Thread-safe; the clock comes in, so the logic is tested without waiting.
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "filter/filter.hpp"

namespace postamt::filter {

struct GreylistOptions {
  std::chrono::seconds delay{300};
  std::chrono::seconds retry_window{std::chrono::hours(24)};  // a triplet not retried by then starts over
  std::chrono::seconds allow_lifetime{std::chrono::hours(24 * 35)};
  std::size_t max_entries = 200'000;
  unsigned ipv4_prefix = 24;  // clients retry from another address of the same pool
  unsigned ipv6_prefix = 64;
};

class Greylist {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Greylist(GreylistOptions options = {}) : options_(options) {}

  enum class Outcome { pass, deferred, allowed };
  struct Answer {
    Outcome outcome = Outcome::pass;
    std::chrono::seconds wait{0};  // deferred: how long until a retry passes
  };
  // One triplet; a pass allows the network.
  Answer check(std::string_view client_ip, std::string_view sender, std::string_view recipient, Clock::time_point now);

  std::size_t size() const;
  // The network a client address belongs to ("192.0.2.0/24"), "" for a non-address.
  std::string network_of(std::string_view client_ip) const;

 private:
  void prune(Clock::time_point now);  // with the mutex held

  GreylistOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> triplets_;  // first seen
  std::unordered_map<std::string, Clock::time_point> allowed_;   // network → allowed until
};

// The filter: a message is deferred while any recipient's triplet is; the null sender is
// never greylisted (bounces may not be retried by every MTA).
std::unique_ptr<Filter> make_greylist_filter(std::shared_ptr<Greylist> greylist);

}  // namespace postamt::filter
