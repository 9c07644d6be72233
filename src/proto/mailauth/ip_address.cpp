#include "proto/mailauth/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace postamt::mailauth {
namespace {

std::string nibbles(const IpAddress& address, bool reversed, bool upper) {
  const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    int index = reversed ? 31 - i : i;
    std::uint8_t byte = address.bytes[static_cast<std::size_t>(index / 2)];
    std::uint8_t nibble = index % 2 == 0 ? byte >> 4 : byte & 0x0F;
    if (!out.empty()) out += '.';
    out += hex[nibble];
  }
  return out;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse_exact(std::string_view text, bool v6) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string copy(text);  // inet_pton wants a terminated string
  IpAddress address;
  address.v6 = v6;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (auto v4 = parse_exact(text, false)) return v4;
  auto v6 = parse_exact(text, true);
  if (!v6) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(v6->bytes.data(), kMapped, sizeof kMapped) == 0) {
    IpAddress v4;
    std::copy_n(v6->bytes.begin() + 12, 4, v4.bytes.begin());
    return v4;
  }
  return v6;
}

bool IpAddress::in_network(const IpAddress& network, int prefix) const {
  if (v6 != network.v6 || prefix < 0 || prefix > (v6 ? 128 : 32)) return false;
  int whole = prefix / 8;
  if (std::memcmp(bytes.data(), network.bytes.data(), static_cast<std::size_t>(whole)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes[static_cast<std::size_t>(whole)] & mask) == (network.bytes[static_cast<std::size_t>(whole)] & mask);
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text) == nullptr) return {};
  return text;
}

std::string IpAddress::dotted() const { return v6 ? nibbles(*this, false, true) : to_string(); }

std::string IpAddress::reverse_name() const {
  if (v6) return nibbles(*this, true, false) + ".ip6.arpa";
  return std::to_string(bytes[3]) + '.' + std::to_string(bytes[2]) + '.' + std::to_string(bytes[1]) + '.' +
         std::to_string(bytes[0]) + ".in-addr.arpa";
}

}  // namespace postamt::mailauth
