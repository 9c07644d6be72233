#include "security/login_networks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace postamt::security {
namespace {

template <std::size_t N>
void clear_host_bits(std::array<std::uint8_t, N>& bytes, unsigned prefix) {
  for (std::size_t i = 0; i < N; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (first_bit >= prefix) {
      bytes[i] = 0;
    } else if (prefix - first_bit < 8) {
      bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (prefix - first_bit)));
    }
  }
}

}  // namespace

std::optional<std::string> network_of(std::string_view ip, unsigned prefix_v4, unsigned prefix_v6) {
  if (ip.size() > 64) return std::nullopt;
  const std::string text(ip);
  std::array<std::uint8_t, 4> v4{};
  std::array<std::uint8_t, 16> v6{};
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), v4.data()) != 1) {
    if (inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return std::nullopt;
    constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!std::equal(kMapped.begin(), kMapped.end(), v6.begin())) {
      prefix_v6 = std::min(prefix_v6, 128u);
      clear_host_bits(v6, prefix_v6);
      inet_ntop(AF_INET6, v6.data(), out, sizeof out);
      return std::string(out) + "/" + std::to_string(prefix_v6);
    }
    std::copy(v6.begin() + 12, v6.end(), v4.begin());
  }
  prefix_v4 = std::min(prefix_v4, 32u);
  clear_host_bits(v4, prefix_v4);
  inet_ntop(AF_INET, v4.data(), out, sizeof out);
  return std::string(out) + "/" + std::to_string(prefix_v4);
}

std::optional<std::vector<std::string>> LoginNetworks::record(std::string_view account, std::string_view ip,
                                                              Clock::time_point now) {
  if (options_.max_networks == 0) return std::nullopt;
  auto network = network_of(ip, options_.prefix_v4, options_.prefix_v6);
  if (!network) return std::nullopt;
  const std::string key(account);
  auto found = by_account_.find(key);
  if (found == by_account_.end()) {
    if (by_account_.size() >= kMaxAccounts) {
      by_account_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(key);
    found = by_account_.emplace(key, Entry{{}, recency_.begin()}).first;
  } else {
    recency_.splice(recency_.begin(), recency_, found->second.age);
  }
  auto& networks = found->second.networks;
  std::erase_if(networks, [&](const Seen& seen) { return now - seen.at > options_.window; });
  const auto same = std::ranges::find(networks, *network, &Seen::network);
  if (same != networks.end()) {
    same->at = now;
  } else {
    networks.push_back(Seen{std::move(*network), now});
    // Bounded: beyond one over the limit, the oldest goes (the signal has fired by then).
    if (networks.size() > options_.max_networks + 1) {
      networks.erase(std::ranges::min_element(networks, {}, &Seen::at));
    }
  }
  if (networks.size() <= options_.max_networks) return std::nullopt;
  std::vector<std::string> seen;
  for (const auto& entry : networks) seen.push_back(entry.network);
  return seen;
}

void LoginNetworks::forget(std::string_view account) {
  const auto found = by_account_.find(std::string(account));
  if (found == by_account_.end()) return;
  recency_.erase(found->second.age);
  by_account_.erase(found);
}

}  // namespace postamt::security
