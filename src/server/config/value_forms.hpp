#pragma once
// The forms of config values that are more than a type: user names, one-line strings, DNS
// servers, the relay host and listen addresses (net_syntax does the addresses and names).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::config::detail {

bool is_user_name(std::string_view text);
bool is_printable_line(std::string_view text);
// "ip", "ip:port", "[v6]" or "[v6]:port"; a bare IPv6 literal has no port.
bool is_dns_server(std::string_view text);
// "name:port", "ipv4:port" or "[ipv6]:port".
bool is_relayhost(std::string_view text);

struct ListenAddress {
  std::string host;  // canonical, no brackets
  std::uint16_t port = 0;
};

// "ipv4:port" or "[ipv6]:port" with a literal address.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace postamt::config::detail
