#include "security/ban_tracker.hpp"

#include <algorithm>

#include "net/ip_network.hpp"
#include "security/login_networks.hpp"

namespace postamt::security {

std::string_view ban_reason_name(BanReason reason) {
  switch (reason) {
    case BanReason::auth_failures: return "auth_failures";
    case BanReason::recipient_probe: return "recipient_probe";
    case BanReason::protocol_abuse: return "protocol_abuse";
  }
  return "unknown";
}

BanTracker::BanTracker(BanPolicy policy)
    : policy_(std::move(policy)), trusted_(std::make_unique<net::IpNetworkList>(policy_.trusted_networks)) {}

BanTracker::~BanTracker() = default;

bool BanTracker::is_trusted(std::string_view ip) const { return trusted_->contains(ip); }

std::optional<std::string> BanTracker::source_key(std::string_view ip) const {
  auto key = network_of(ip, 32, policy_.prefix_v6);
  if (!key) return std::nullopt;
  // An IPv4 address is its own key, without "/32".
  if (key->ends_with("/32") && key->find(':') == std::string::npos) key->resize(key->size() - 3);
  if (key->ends_with("/128")) key->resize(key->size() - 4);
  return key;
}

std::optional<std::string> BanTracker::network_key(std::string_view ip) const {
  if (policy_.prefix_factor == 0 || policy_.prefix_v4 >= 32) return std::nullopt;
  auto key = network_of(ip, policy_.prefix_v4, 128);
  if (!key || key->find(':') != std::string::npos) return std::nullopt;
  return key;
}

unsigned BanTracker::threshold(BanReason reason) const {
  switch (reason) {
    case BanReason::auth_failures: return policy_.auth_failures;
    case BanReason::recipient_probe: return policy_.recipient_probes;
    case BanReason::protocol_abuse: return policy_.protocol_errors;
  }
  return 0;
}

bool BanTracker::count(const std::string& key, BanReason reason, std::uint64_t distinct, std::int64_t now,
                       unsigned limit) {
  if (counts_.size() >= policy_.max_tracked) {
    std::erase_if(counts_, [&](const auto& entry) { return now - entry.second.window_start >= policy_.window; });
    if (counts_.size() >= policy_.max_tracked) return false;  // a flood of sources: bounded, none counted
  }
  Count& c = counts_[{key, reason}];
  if (now - c.window_start >= policy_.window) c = Count{now, 0, {}};
  if (distinct != 0) {
    if (std::ranges::find(c.seen, distinct) != c.seen.end()) return false;
    if (c.seen.size() < 64) c.seen.push_back(distinct);
  }
  return ++c.count >= limit;
}

storage::BanRow BanTracker::ban(const std::string& key, BanReason reason, unsigned counted, std::int64_t now) {
  const std::uint32_t offences = ++offences_[key];
  std::int64_t duration = policy_.ban_duration;
  for (std::uint32_t i = 1; i < offences && duration < policy_.max_ban_duration; ++i) duration *= 2;
  duration = std::min(duration, std::max(policy_.max_ban_duration, policy_.ban_duration));
  bans_[key] = now + duration;
  counts_.erase({key, reason});
  storage::BanRow row;
  row.target = key;
  row.reason = std::string(ban_reason_name(reason));
  row.detail = std::to_string(counted) + " " + std::string(ban_reason_name(reason)) + " within " +
               std::to_string(policy_.window) + "s";
  row.banned_at = now;
  row.until = now + duration;
  row.offences = offences;
  return row;
}

std::vector<storage::BanRow> BanTracker::record(std::string_view ip, BanReason reason, std::uint64_t distinct,
                                                std::int64_t now) {
  std::vector<storage::BanRow> bans;
  const unsigned limit = threshold(reason);
  if (!policy_.enabled || limit == 0 || is_trusted(ip)) return bans;
  const auto source = source_key(ip);
  if (!source) return bans;
  const auto network = network_key(ip);
  std::lock_guard lock(mutex_);
  if (count(*source, reason, distinct, now, limit)) {
    const auto current = bans_.find(*source);
    if (current == bans_.end() || current->second <= now) bans.push_back(ban(*source, reason, limit, now));
  }
  if (network) {
    const unsigned network_limit = limit * policy_.prefix_factor;
    if (count(*network, reason, distinct, now, network_limit)) {
      const auto current = bans_.find(*network);
      if (current == bans_.end() || current->second <= now) bans.push_back(ban(*network, reason, network_limit, now));
    }
  }
  return bans;
}

bool BanTracker::is_banned(std::string_view ip, std::int64_t now) const {
  if (!policy_.enabled || is_trusted(ip)) return false;
  const auto source = source_key(ip);
  if (!source) return false;
  const auto network = network_key(ip);
  std::lock_guard lock(mutex_);
  if (bans_.empty()) return false;
  if (auto it = bans_.find(*source); it != bans_.end() && it->second > now) return true;
  if (network) {
    if (auto it = bans_.find(*network); it != bans_.end() && it->second > now) return true;
  }
  return false;
}

void BanTracker::replace_active(const std::vector<storage::BanRow>& active) {
  std::lock_guard lock(mutex_);
  bans_.clear();
  for (const auto& row : active) bans_[row.target] = row.until;
}

void BanTracker::remember_offences(const std::vector<storage::BanRow>& history) {
  std::lock_guard lock(mutex_);
  for (const auto& row : history) {
    auto& offences = offences_[row.target];
    offences = std::max(offences, row.offences);
  }
}

std::size_t BanTracker::active(std::int64_t now) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::ranges::count_if(bans_, [&](const auto& b) { return b.second > now; }));
}

}  // namespace postamt::security
