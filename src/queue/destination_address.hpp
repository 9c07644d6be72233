#pragma once
// Which addresses an MX may lead to. Mail for a domain goes to the Internet: an MX (or
// implicit MX) whose address is loopback, private, link-local and the like points back
// into this host or its network, where a hostile domain owner could reach services that
// trust local connections. Such addresses are refused unless the operator allows them
// (outbound.allow_private_destinations); the relay host is the operator's own choice.
#include <asio/ip/address.hpp>

#include <optional>
#include <string_view>

namespace postamt::queue {

// What kind of non-public address this is ("loopback", "private", "link-local",
// "unspecified", ...; the IANA special-purpose registries, RFC 6890), or nullopt for a
// globally routable unicast address. IPv4-mapped and NAT64 (RFC 6052) IPv6 addresses
// are judged by the IPv4 address they carry.
std::optional<std::string_view> non_public_kind(const asio::ip::address& address);

}  // namespace postamt::queue
