#include "base/config.hpp"

#include <array>
#include <string>
#include <utility>

namespace postamt {

namespace {

constexpr std::array<std::pair<Protocol, std::string_view>, 8> kProtocolNames = {{
    {Protocol::smtp, "smtp"},
    {Protocol::submission, "submission"},
    {Protocol::submissions, "submissions"},
    {Protocol::imap, "imap"},
    {Protocol::imaps, "imaps"},
    {Protocol::pop3, "pop3"},
    {Protocol::pop3s, "pop3s"},
    {Protocol::http, "http"},
}};

}  // namespace

std::string_view protocol_name(Protocol protocol) {
  for (const auto& [value, name] : kProtocolNames) {
    if (value == protocol) {
      return name;
    }
  }
  return "unknown";
}

std::optional<Protocol> protocol_from_name(std::string_view name) {
  for (const auto& [value, known] : kProtocolNames) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

bool protocol_uses_implicit_tls(Protocol protocol) {
  return protocol == Protocol::submissions || protocol == Protocol::imaps ||
         protocol == Protocol::pop3s;
}

std::string ListenerConfig::address() const {
  // Only IPv6 literals contain a colon; they need brackets to keep the port apart.
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

}  // namespace postamt
