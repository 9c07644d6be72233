#include "queue/destination_address.hpp"

#include <array>
#include <cstdint>

namespace postamt::queue {
namespace {

struct V4Range {
  std::uint32_t network;
  unsigned prefix;
  std::string_view kind;
};

// RFC 6890 §2.2.2 and its updates: the IPv4 blocks that are not globally reachable.
constexpr std::array<V4Range, 14> kV4 = {{
    {0x00000000, 8, "unspecified"},          // 0.0.0.0/8 "this network"
    {0x0a000000, 8, "private"},              // 10.0.0.0/8 (RFC 1918)
    {0x64400000, 10, "shared (CGN)"},        // 100.64.0.0/10 (RFC 6598)
    {0x7f000000, 8, "loopback"},             // 127.0.0.0/8
    {0xa9fe0000, 16, "link-local"},          // 169.254.0.0/16
    {0xac100000, 12, "private"},             // 172.16.0.0/12 (RFC 1918)
    {0xc0000000, 24, "IETF protocol"},       // 192.0.0.0/24
    {0xc0000200, 24, "documentation"},       // 192.0.2.0/24
    {0xc0a80000, 16, "private"},             // 192.168.0.0/16 (RFC 1918)
    {0xc6120000, 15, "benchmarking"},        // 198.18.0.0/15
    {0xc6336400, 24, "documentation"},       // 198.51.100.0/24
    {0xcb007100, 24, "documentation"},       // 203.0.113.0/24
    {0xe0000000, 4, "multicast"},            // 224.0.0.0/4
    {0xf0000000, 4, "reserved"},             // 240.0.0.0/4, with 255.255.255.255
}};

std::optional<std::string_view> v4_kind(std::uint32_t address) {
  for (const V4Range& range : kV4) {
    const std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
    if ((address & mask) == range.network) return range.kind;
  }
  return std::nullopt;
}

std::uint32_t embedded_v4(const asio::ip::address_v6::bytes_type& bytes) {
  return std::uint32_t{bytes[12]} << 24 | std::uint32_t{bytes[13]} << 16 | std::uint32_t{bytes[14]} << 8 | bytes[15];
}

bool starts_with(const asio::ip::address_v6::bytes_type& bytes, std::initializer_list<std::uint8_t> prefix,
                 std::size_t zero_bytes_after = 0) {
  std::size_t i = 0;
  for (const std::uint8_t byte : prefix) {
    if (bytes[i++] != byte) return false;
  }
  for (std::size_t end = i + zero_bytes_after; i < end; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

std::optional<std::string_view> v6_kind(const asio::ip::address_v6& address) {
  const auto bytes = address.to_bytes();
  if (address.is_unspecified()) return "unspecified";
  if (address.is_loopback()) return "loopback";
  if (address.is_v4_mapped()) return v4_kind(embedded_v4(bytes));       // ::ffff:0:0/96
  if (starts_with(bytes, {0x00, 0x64, 0xff, 0x9b}, 8)) return v4_kind(embedded_v4(bytes));  // 64:ff9b::/96
  if ((bytes[0] & 0xfe) == 0xfc) return "private";                       // fc00::/7 unique local
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) return "link-local"; // fe80::/10
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0xc0) return "site-local"; // fec0::/10 (deprecated)
  if (bytes[0] == 0xff) return "multicast";                              // ff00::/8
  if (starts_with(bytes, {0x20, 0x01, 0x0d, 0xb8})) return "documentation";  // 2001:db8::/32
  if (bytes[0] == 0x3f && bytes[1] == 0xff && (bytes[2] & 0xf0) == 0) return "documentation";  // 3fff::/20
  if (starts_with(bytes, {0x01, 0x00}, 6)) return "discard";             // 100::/64
  // Global unicast is 2000::/3 (RFC 4291 §2.4); everything else is reserved.
  if ((bytes[0] & 0xe0) != 0x20) return "reserved";
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> non_public_kind(const asio::ip::address& address) {
  if (address.is_v4()) return v4_kind(address.to_v4().to_uint());
  return v6_kind(address.to_v6());
}

}  // namespace postamt::queue
