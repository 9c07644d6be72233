#include "net/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace postamt::net {
namespace {

struct ParsedAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
};

std::optional<ParsedAddress> parse_address(std::string_view text) {
  const std::string copy(text);
  ParsedAddress parsed;
  if (inet_pton(AF_INET, copy.c_str(), parsed.bytes.data()) == 1) return parsed;
  if (inet_pton(AF_INET6, copy.c_str(), parsed.bytes.data()) == 1) {
    parsed.v6 = true;
    // ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, parsed.bytes.begin())) {
      parsed.v6 = false;
      std::copy(parsed.bytes.begin() + 12, parsed.bytes.end(), parsed.bytes.begin());
      std::fill(parsed.bytes.begin() + 4, parsed.bytes.end(), 0);
    }
    return parsed;
  }
  return std::nullopt;
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view cidr) {
  const auto slash = cidr.find('/');
  auto address = parse_address(cidr.substr(0, slash));
  if (!address) return std::nullopt;
  IpNetwork network;
  network.v6_ = address->v6;
  network.bytes_ = address->bytes;
  const unsigned max_prefix = address->v6 ? 128 : 32;
  network.prefix_ = max_prefix;
  if (slash != std::string_view::npos) {
    const auto digits = cidr.substr(slash + 1);
    unsigned prefix = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || prefix > max_prefix) {
      return std::nullopt;
    }
    network.prefix_ = prefix;
  }
  return network;
}

bool IpNetwork::contains(std::string_view ip) const {
  auto address = parse_address(ip);
  if (!address || address->v6 != v6_) return false;
  unsigned bits = prefix_;
  for (std::size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((address->bytes[i] & mask) != (bytes_[i] & mask)) return false;
  }
  return true;
}

IpNetworkList::IpNetworkList(const std::vector<std::string>& cidrs) {
  for (const auto& cidr : cidrs) {
    auto network = IpNetwork::parse(cidr);
    if (!network) throw std::invalid_argument("not an IP network: " + cidr);
    networks_.push_back(*network);
  }
}

bool IpNetworkList::contains(std::string_view ip) const {
  for (const auto& network : networks_) {
    if (network.contains(ip)) return true;
  }
  return false;
}

std::string client_network_key(std::string_view client_ip) {
  const std::string text(client_ip);
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    std::array<char, INET6_ADDRSTRLEN> out{};
    inet_ntop(AF_INET6, bytes.data(), out.data(), out.size());
    return std::string(out.data()) + "/64";
  }
  return text;
}

}  // namespace postamt::net
