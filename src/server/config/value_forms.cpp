#include "server/config/value_forms.hpp"

#include <algorithm>

#include "server/config/net_syntax.hpp"

namespace postamt::config::detail {

bool is_user_name(std::string_view text) {
  return !text.empty() && std::ranges::none_of(text, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f || c == ':' || c == '/';
  });
}

bool is_printable_line(std::string_view text) {
  return !text.empty() && std::ranges::none_of(text, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// "ip", "ip:port", "[v6]" or "[v6]:port"; a bare IPv6 literal has no port.
bool is_dns_server(std::string_view text) {
  const auto parts = split_host_port(text);
  if (!parts) {
    return false;
  }
  const auto address = parse_ip_address(parts->host);
  if (!address) {
    return false;
  }
  // A colon-separated port after an unbracketed host only works for IPv4.
  if (parts->port && !parts->bracketed && address->family != IpFamily::v4) {
    return false;
  }
  if (parts->bracketed && address->family != IpFamily::v6) {
    return false;
  }
  if (!parts->port) {
    return true;
  }
  const auto port = parse_port(*parts->port);
  return port && *port != 0;
}

// "name:port", "ipv4:port" or "[ipv6]:port".
bool is_relayhost(std::string_view text) {
  const auto parts = split_host_port(text);
  if (!parts || !parts->port) {
    return false;
  }
  const auto port = parse_port(*parts->port);
  if (!port || *port == 0) {
    return false;
  }
  if (parts->bracketed) {
    const auto address = parse_ip_address(parts->host);
    return address && address->family == IpFamily::v6;
  }
  const auto address = parse_ip_address(parts->host);
  return (address && address->family == IpFamily::v4) || is_dns_name(parts->host);
}

// "ipv4:port" or "[ipv6]:port" with a literal address.
std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  const auto parts = split_host_port(text);
  if (!parts || !parts->port) {
    return std::nullopt;
  }
  const auto address = parse_ip_address(parts->host);
  const auto port = parse_port(*parts->port);
  if (!address || !port) {
    return std::nullopt;
  }
  if (parts->bracketed != (address->family == IpFamily::v6)) {
    return std::nullopt;
  }
  return ListenAddress{address->text, *port};
}

}  // namespace postamt::config::detail
