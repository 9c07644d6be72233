#include "proto/smtp/client_capabilities.hpp"

#include <algorithm>
#include <cctype>

namespace postamt::proto::smtp {
namespace {

constexpr std::size_t kMaxAuthMechanisms = 32;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Splits off the next SP-separated word.
std::string_view next_word(std::string_view& rest) {
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  std::size_t end = 0;
  while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t') ++end;
  const std::string_view word = rest.substr(0, end);
  rest.remove_prefix(end);
  return word;
}

// RFC 1870 §4: "SIZE" [SP number]; a number that does not fit is treated as no limit.
std::optional<std::uint64_t> parse_size(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

void take_line(ServerCapabilities& caps, std::string_view line) {
  std::string_view rest = line;
  const std::string keyword = upper(next_word(rest));
  if (keyword == "PIPELINING") {
    caps.pipelining = true;
  } else if (keyword == "SIZE") {
    caps.size = true;
    const auto limit = parse_size(next_word(rest));
    if (limit && *limit > 0) caps.max_size = limit;
  } else if (keyword == "8BITMIME") {
    caps.eight_bit_mime = true;
  } else if (keyword == "SMTPUTF8") {
    caps.smtputf8 = true;
  } else if (keyword == "DSN") {
    caps.dsn = true;
  } else if (keyword == "STARTTLS") {
    caps.starttls = true;
  } else if (keyword == "CHUNKING") {
    caps.chunking = true;
  } else if (keyword == "ENHANCEDSTATUSCODES") {
    caps.enhanced_status_codes = true;
  } else if (keyword == "AUTH") {
    while (true) {
      const std::string_view word = next_word(rest);
      if (word.empty()) break;
      if (caps.auth_mechanisms.size() >= kMaxAuthMechanisms) break;
      std::string mechanism = upper(word);
      if (std::find(caps.auth_mechanisms.begin(), caps.auth_mechanisms.end(), mechanism) ==
          caps.auth_mechanisms.end()) {
        caps.auth_mechanisms.push_back(std::move(mechanism));
      }
    }
  }
}

}  // namespace

bool ServerCapabilities::supports(Extension extension) const {
  switch (extension) {
    case Extension::pipelining: return pipelining;
    case Extension::size: return size;
    case Extension::eight_bit_mime: return eight_bit_mime;
    case Extension::smtputf8: return smtputf8;
    case Extension::dsn: return dsn;
    case Extension::starttls: return starttls;
    case Extension::auth: return !auth_mechanisms.empty();
    case Extension::chunking: return chunking;
    case Extension::enhanced_status_codes: return enhanced_status_codes;
  }
  return false;
}

bool ServerCapabilities::offers_auth(std::string_view mechanism) const {
  const std::string wanted = upper(mechanism);
  return std::find(auth_mechanisms.begin(), auth_mechanisms.end(), wanted) !=
         auth_mechanisms.end();
}

ServerCapabilities parse_ehlo_reply(std::string_view text) {
  ServerCapabilities caps;
  caps.extended = true;
  bool first = true;
  while (true) {
    const std::size_t newline = text.find('\n');
    if (!first) take_line(caps, text.substr(0, newline));
    first = false;
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  return caps;
}

}  // namespace postamt::proto::smtp
