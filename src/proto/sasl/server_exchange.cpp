#include "proto/sasl/server_exchange.hpp"

#include <algorithm>
#include <cctype>

#include "base/base64.hpp"

namespace postamt::proto::sasl {
namespace {

// RFC 4616 §2: authzid, authcid and passwd are each at most 255 octets of UTF-8.
constexpr std::size_t kMaxField = 255;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Failure malformed(std::string message) { return Failure{Failure::Reason::malformed, std::move(message)}; }

std::optional<std::string> decode(std::string_view line) {
  if (line == "=") return std::string();  // RFC 4954 §4: "=" is an empty response
  return base64_decode(line);
}

}  // namespace

std::optional<Mechanism> mechanism_from_name(std::string_view name) {
  if (iequals(name, "PLAIN")) return Mechanism::plain;
  if (iequals(name, "LOGIN")) return Mechanism::login;
  return std::nullopt;
}

std::string_view mechanism_name(Mechanism mechanism) {
  return mechanism == Mechanism::plain ? "PLAIN" : "LOGIN";
}

Step ServerExchange::plain(std::string_view message) {
  stage_ = Stage::done;
  const auto first = message.find('\0');
  if (first == std::string_view::npos) return malformed("PLAIN message lacks NUL separators");
  const auto second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return malformed("PLAIN message lacks NUL separators");
  Credentials credentials{std::string(message.substr(0, first)),
                          std::string(message.substr(first + 1, second - first - 1)),
                          std::string(message.substr(second + 1))};
  if (credentials.password.find('\0') != std::string::npos) return malformed("PLAIN message has extra NULs");
  if (credentials.authcid.empty()) return malformed("PLAIN message has an empty authentication identity");
  if (credentials.authzid.size() > kMaxField || credentials.authcid.size() > kMaxField ||
      credentials.password.size() > kMaxField) {
    return malformed("PLAIN field longer than 255 octets");
  }
  return credentials;
}

Step ServerExchange::start(std::optional<std::string_view> initial_response) {
  if (stage_ != Stage::begin) return malformed("exchange already started");
  std::optional<std::string> initial;
  if (initial_response) {
    if (*initial_response == kCancel) {
      stage_ = Stage::done;
      return Failure{Failure::Reason::cancelled, "authentication cancelled"};
    }
    initial = decode(*initial_response);
    if (!initial) {
      stage_ = Stage::done;
      return malformed("initial response is not valid base64");
    }
  }
  switch (mechanism_) {
    case Mechanism::plain:
      if (initial) return plain(*initial);
      stage_ = Stage::plain_wait;
      return Challenge{""};
    case Mechanism::login:
      if (initial) {
        if (initial->size() > kMaxField) return malformed("user name longer than 255 octets");
        login_user_ = std::move(*initial);
        stage_ = Stage::login_password;
        return Challenge{base64_encode("Password:")};
      }
      stage_ = Stage::login_user;
      return Challenge{base64_encode("Username:")};
  }
  return malformed("unknown mechanism");
}

Step ServerExchange::respond(std::string_view line) {
  if (line == kCancel) {
    stage_ = Stage::done;
    return Failure{Failure::Reason::cancelled, "authentication cancelled"};
  }
  auto decoded = decode(line);
  if (!decoded) {
    stage_ = Stage::done;
    return malformed("response is not valid base64");
  }
  switch (stage_) {
    case Stage::plain_wait:
      return plain(*decoded);
    case Stage::login_user:
      if (decoded->empty() || decoded->size() > kMaxField) {
        stage_ = Stage::done;
        return malformed("bad user name");
      }
      login_user_ = std::move(*decoded);
      stage_ = Stage::login_password;
      return Challenge{base64_encode("Password:")};
    case Stage::login_password:
      stage_ = Stage::done;
      if (decoded->size() > kMaxField) return malformed("password longer than 255 octets");
      return Credentials{"", std::move(login_user_), std::move(*decoded)};
    case Stage::begin:
    case Stage::done:
      break;
  }
  stage_ = Stage::done;
  return malformed("no exchange in progress");
}

}  // namespace postamt::proto::sasl
