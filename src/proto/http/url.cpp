#include "proto/http/url.hpp"

#include <charconv>

#include <fmt/format.h>

namespace postamt::proto::http {

namespace {

bool is_reg_name_char(char c) {  // RFC 3986 §3.2.2 reg-name, minus percent-encoding
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '-' || c == '.' ||
         c == '_';
}

bool is_ipv6_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'f') || (u >= 'A' && u <= 'F') || c == ':' || c == '.';
}

}  // namespace

std::string Url::authority() const {
  const std::string shown = ipv6_literal ? "[" + host + "]" : host;
  return port == 80 ? shown : fmt::format("{}:{}", shown, port);
}

std::string Url::with(std::uint16_t other_port, std::string_view other_path) const {
  Url copy = *this;
  copy.port = other_port;
  copy.path = std::string(other_path);
  return "http://" + copy.authority() + copy.path;
}

Result<Url> parse_url(std::string_view text) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return permanent_error("not a URL (expected http://host[:port][/path])");
  std::string scheme(text.substr(0, scheme_end));
  for (char& c : scheme) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (scheme == "https") return permanent_error("https is not supported: use http:// to a local service");
  if (scheme != "http") return permanent_error(fmt::format("unsupported URL scheme \"{}\" (only http)", scheme));
  std::string_view rest = text.substr(scheme_end + 3);
  const auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  Url url;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    path = path.substr(0, path.find('#'));
    if (path.empty() || path.front() != '/') path = "/";
    if (path.find_first_of(" \t\r\n") != std::string_view::npos) return permanent_error("whitespace in the URL's path");
    url.path = path.front() == '/' ? std::string(path) : "/" + std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) return permanent_error("user information in the URL is not supported");
  if (authority.empty()) return permanent_error("the URL has no host");
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return permanent_error("an IPv6 literal without ']'");
    const std::string_view literal = authority.substr(1, close - 1);
    if (literal.empty() || literal.find(':') == std::string_view::npos) return permanent_error("a bad IPv6 literal");
    for (const char c : literal) {
      if (!is_ipv6_char(c)) return permanent_error("a bad IPv6 literal");
    }
    url.host = std::string(literal);
    url.ipv6_literal = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return permanent_error("junk after the IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return permanent_error("an empty port");
    }
  } else {
    const auto colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) return permanent_error("the URL has no host");
    for (const char c : host) {
      if (!is_reg_name_char(c)) return permanent_error(fmt::format("a bad host name \"{}\"", host));
    }
    url.host = std::string(host);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return permanent_error("an empty port");
    }
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535 ||
        port_text.front() == '+') {
      return permanent_error(fmt::format("a bad port \"{}\"", port_text));
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  return url;
}

}  // namespace postamt::proto::http
