#pragma once
// BanTracker: who is banned at connect time (issue 15 §7). Pure and thread-safe, no clock
// of its own (every call takes the Unix time in seconds).
// - Offences (failed logins, unknown recipients, sessions closed for protocol abuse) are
//   counted per source — an IPv4 address, or the IPv6 network of prefix_v6 bits one
//   subscriber holds — and per IPv4 network of prefix_v4 bits, in a fixed window. A source
//   crossing a reason's threshold is banned; an IPv4 network crossing prefix_factor x the
//   threshold is banned as a whole.
// - A ban lasts ban_duration, doubled for every earlier ban of the same target still
//   remembered (up to max_ban_duration).
// - Trusted networks are never counted, never banned, never refused.
// The bans themselves are the store's (security_monitor.hpp keeps this in step with it).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/api/security_types.hpp"

namespace postamt::net {
class IpNetworkList;
}

namespace postamt::security {

enum class BanReason { auth_failures, recipient_probe, protocol_abuse };
std::string_view ban_reason_name(BanReason reason);

struct BanPolicy {
  bool enabled = true;
  unsigned auth_failures = 20;  // 0: this reason never bans
  unsigned recipient_probes = 20;
  unsigned protocol_errors = 3;
  std::int64_t window = 600;  // seconds
  std::int64_t ban_duration = 3600;
  std::int64_t max_ban_duration = 604800;
  unsigned prefix_v4 = 24;
  unsigned prefix_v6 = 64;
  unsigned prefix_factor = 4;  // 0: no network bans
  std::vector<std::string> trusted_networks;
  std::size_t max_tracked = 100'000;
};

class BanTracker {
 public:
  explicit BanTracker(BanPolicy policy);
  ~BanTracker();

  bool is_trusted(std::string_view ip) const;
  // The key an address is counted and banned under ("192.0.2.7", "2001:db8:1:2::/64"), and
  // its IPv4 network ("192.0.2.0/24"; none for IPv6 or when network bans are off).
  std::optional<std::string> source_key(std::string_view ip) const;
  std::optional<std::string> network_key(std::string_view ip) const;

  // Counts one offence; returns the bans it leads to (to store and announce). `distinct`
  // != 0: an offence with a value seen before in this window does not count again.
  std::vector<storage::BanRow> record(std::string_view ip, BanReason reason, std::uint64_t distinct,
                                      std::int64_t now);

  // Is a client from this address refused at connect time?
  bool is_banned(std::string_view ip, std::int64_t now) const;

  // The store's bans: `active` replaces the bans in force (an unban is a ban gone from
  // it); `history` (ended ones too) gives the offence counts of repeat offenders.
  void replace_active(const std::vector<storage::BanRow>& active);
  void remember_offences(const std::vector<storage::BanRow>& history);
  std::size_t active(std::int64_t now) const;

 private:
  struct Count {
    std::int64_t window_start = 0;
    unsigned count = 0;
    std::vector<std::uint64_t> seen;  // distinct values counted in this window (bounded)
  };
  unsigned threshold(BanReason reason) const;
  bool count(const std::string& key, BanReason reason, std::uint64_t distinct, std::int64_t now, unsigned limit);
  storage::BanRow ban(const std::string& key, BanReason reason, unsigned counted, std::int64_t now);

  const BanPolicy policy_;
  std::unique_ptr<net::IpNetworkList> trusted_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, BanReason>, Count> counts_;
  std::unordered_map<std::string, std::int64_t> bans_;  // target -> until
  std::unordered_map<std::string, std::uint32_t> offences_;
};

}  // namespace postamt::security
