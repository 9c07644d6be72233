#pragma once
// Server side of the SASL mechanisms Postamt offers, as pure state machines shared by
// SMTP AUTH (RFC 4954), IMAP AUTHENTICATE (RFC 9051 §6.2.2) and POP3 AUTH (RFC 5034).
// The protocol carries base64 lines; this turns them into credentials.
//   PLAIN (RFC 4616): one message "[authzid] NUL authcid NUL passwd".
//   LOGIN (draft-murchison-sasl-login): "Username:" then "Password:" challenges.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace postamt::proto::sasl {

enum class Mechanism { plain, login };

std::optional<Mechanism> mechanism_from_name(std::string_view name);  // case-insensitive
std::string_view mechanism_name(Mechanism mechanism);

struct Credentials {
  std::string authzid;  // empty: act as authcid
  std::string authcid;
  std::string password;
};

struct Challenge {
  std::string base64;  // what follows "334 " / "+ "
};
struct Failure {
  enum class Reason { malformed, cancelled };
  Reason reason;
  std::string message;
};
using Step = std::variant<Challenge, Credentials, Failure>;

// RFC 4954 §4: a client line of "*" cancels the exchange.
constexpr std::string_view kCancel = "*";

class ServerExchange {
 public:
  explicit ServerExchange(Mechanism mechanism) : mechanism_(mechanism) {}

  // initial_response: the base64 SASL-IR (RFC 4959) if the client sent one; "=" is an
  // empty initial response (RFC 4954 §4).
  Step start(std::optional<std::string_view> initial_response);
  // One client line (base64, or "*" to cancel).
  Step respond(std::string_view line);

 private:
  Step plain(std::string_view message);

  Mechanism mechanism_;
  enum class Stage { begin, plain_wait, login_user, login_password, done } stage_ = Stage::begin;
  std::string login_user_;
};

}  // namespace postamt::proto::sasl
