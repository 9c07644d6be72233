#pragma once
// Where a local HTTP service listens: "http://host[:port][/path]" (RFC 3986 §3 subset;
// IPv6 literals in brackets, §3.2.2). https is refused: Postamt talks plain HTTP to
// services on its own host or network only.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace postamt::proto::http {

struct Url {
  std::string host;        // without brackets
  std::uint16_t port = 80;
  std::string path = "/";  // always begins with '/'
  bool ipv6_literal = false;

  // The Host field's value (RFC 9110 §7.2): "host", "host:port", "[::1]:port".
  std::string authority() const;
  // The same URL with another port and path ("http://[::1]:11334/").
  std::string with(std::uint16_t other_port, std::string_view other_path) const;
};

Result<Url> parse_url(std::string_view text);

}  // namespace postamt::proto::http
