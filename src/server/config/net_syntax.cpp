#include "server/config/net_syntax.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>

namespace postamt::config {

namespace {

constexpr std::size_t kMaxDnsName = 253;
constexpr std::size_t kMaxDnsLabel = 63;

bool is_digits(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// Small decimal number without sign; nullopt when not digits or above max.
std::optional<unsigned> parse_small_number(std::string_view text, unsigned max) {
  if (!is_digits(text) || text.size() > 5) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  // inet_pton wants a C string: an embedded NUL would silently cut the text short.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string input(text);
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  in_addr v4{};
  if (inet_pton(AF_INET, input.c_str(), &v4) == 1 &&
      inet_ntop(AF_INET, &v4, buffer.data(), buffer.size()) != nullptr) {
    return IpAddress{IpFamily::v4, buffer.data()};
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, input.c_str(), &v6) == 1 &&
      inet_ntop(AF_INET6, &v6, buffer.data(), buffer.size()) != nullptr) {
    return IpAddress{IpFamily::v6, buffer.data()};
  }
  return std::nullopt;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  auto value = parse_small_number(text, 65535);
  if (!value) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(*value);
}

std::optional<HostPort> split_host_port(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    HostPort result{text.substr(1, close - 1), std::nullopt, true};
    const auto rest = text.substr(close + 1);
    if (rest.empty()) {
      return result;
    }
    if (rest.front() != ':') {
      return std::nullopt;
    }
    result.port = rest.substr(1);
    return result;
  }
  if (text.find(']') != std::string_view::npos) {
    return std::nullopt;
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
    return HostPort{text, std::nullopt, false};  // a name, IPv4, or a bare IPv6 literal
  }
  return HostPort{text.substr(0, colon), text.substr(colon + 1), false};
}

bool is_dns_name(std::string_view text) {
  if (text.empty() || text.size() > kMaxDnsName) {
    return false;
  }
  std::string_view last_label;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const auto label = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    if (label.empty() || label.size() > kMaxDnsLabel || label.front() == '-' ||
        label.back() == '-' || !std::ranges::all_of(label, is_label_char)) {
      return false;
    }
    last_label = label;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return !is_digits(last_label);
}

bool is_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  const auto address = parse_ip_address(text.substr(0, slash));
  if (!address) {
    return false;
  }
  const unsigned max_prefix = address->family == IpFamily::v4 ? 32 : 128;
  return parse_small_number(text.substr(slash + 1), max_prefix).has_value();
}

}  // namespace postamt::config
