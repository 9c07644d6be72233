#pragma once
// IP networks in CIDR notation ("192.0.2.0/24", "2001:db8::/32", or a bare address) and
// membership tests, for relay_networks and similar policy lists.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::net {

class IpNetwork {
 public:
  static std::optional<IpNetwork> parse(std::string_view cidr);
  // `ip` is a literal IPv4 or IPv6 address; IPv4-mapped IPv6 matches IPv4 networks.
  bool contains(std::string_view ip) const;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};
  unsigned prefix_ = 0;
};

class IpNetworkList {
 public:
  // Throws std::invalid_argument naming the bad entry (config was validated earlier).
  explicit IpNetworkList(const std::vector<std::string>& cidrs);
  bool contains(std::string_view ip) const;

 private:
  std::vector<IpNetwork> networks_;
};

// The key abuse counters count a client by: an IPv4 address as it is, an IPv6 address as
// its /64 ("2001:db8:1:2::/64"), since one host has the whole /64 to rotate through.
std::string client_network_key(std::string_view client_ip);

}  // namespace postamt::net
