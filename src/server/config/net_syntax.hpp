#pragma once
// Pure syntax checks for the network values in the config file: IP literals, ports,
// "host:port" pairs, CIDR networks and DNS host names. No name resolution happens here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::config {

enum class IpFamily { v4, v6 };

struct IpAddress {
  IpFamily family = IpFamily::v4;
  std::string text;  // canonical form (inet_ntop), IPv6 without brackets
};

// A literal IPv4 or IPv6 address (no brackets, no zone id).
std::optional<IpAddress> parse_ip_address(std::string_view text);

// Decimal digits only, 0-65535.
std::optional<std::uint16_t> parse_port(std::string_view text);

struct HostPort {
  std::string_view host;                 // without brackets
  std::optional<std::string_view> port;  // absent when the text had no ":port"
  bool bracketed = false;                // written as "[host]"
};

// Splits "host:port", "[v6]:port", "host", "[v6]" and a bare IPv6 literal (two or more
// colons and no brackets: all host). Fails only on malformed brackets.
std::optional<HostPort> split_host_port(std::string_view text);

// A DNS host name: dot-separated labels of letters, digits and hyphens (no leading or
// trailing hyphen), at most 63 bytes each and 253 in all; the last label is not all digits,
// so an IPv4 literal is not mistaken for a name. No trailing dot.
bool is_dns_name(std::string_view text);

// "address/prefix" with prefix 0-32 for IPv4 and 0-128 for IPv6.
bool is_cidr(std::string_view text);

}  // namespace postamt::config
