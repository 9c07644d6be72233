#pragma once
// IpAddress: an IPv4 or IPv6 address as sender authentication sees it (no sockets): parsed
// from text, compared under a prefix, written in the forms RFC 7208 §7.3 needs.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mailauth {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4

  // "192.0.2.1", "2001:db8::1"; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the
  // IPv4 address (RFC 7208 §5: such a client is treated as IPv4). nullopt: not an address.
  static std::optional<IpAddress> parse(std::string_view text);
  // The same, without the IPv4-mapped conversion (for ip6: networks in records).
  static std::optional<IpAddress> parse_exact(std::string_view text, bool v6);

  // Whether the first `prefix` bits equal those of `network` (same family only).
  bool in_network(const IpAddress& network, int prefix) const;
  // The usual text form: dotted quad, or RFC 5952 compressed lower-case IPv6.
  std::string to_string() const;
  // RFC 7208 §7.3 %{i}: dotted quad, or 32 dot-separated nibbles (upper case, as the
  // RFC's §7.4 example writes them).
  std::string dotted() const;
  // The PTR name: "4.3.2.1.in-addr.arpa" or the nibbles reversed + ".ip6.arpa".
  std::string reverse_name() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

}  // namespace postamt::mailauth
