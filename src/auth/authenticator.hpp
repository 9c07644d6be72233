#pragma once
// Authenticator: checks a user name and password against the directory, with the
// throttling every protocol shares (DESIGN.md "Security rules"): an IP that failed too
// often is refused for a while without its password being looked at. Blocking (store
// lookup and password hash): run it on the storage pool. The protocol sessions add the
// failure delay themselves, asynchronously.
#include <string>
#include <string_view>

#include "auth/auth_throttle.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::auth {

struct AuthOutcome {
  enum class Result {
    ok,
    bad_credentials,     // wrong password, unknown user, or authzid not allowed
    locked_out,          // too many failures from this IP
    disabled,            // the account exists but may not log in
    temporary_failure,   // the store failed; try again later
  };
  Result result = Result::bad_credentials;
  storage::AccountRecord account;  // set when ok
  std::string detail;              // for the log, never for the client
};

class Authenticator {
 public:
  Authenticator(storage::MailStore& store, AuthThrottle& throttle) : store_(store), throttle_(throttle) {}

  // authzid: empty or the same as authcid (Postamt has no proxy authorisation).
  AuthOutcome authenticate(std::string_view client_ip, std::string_view authzid,
                           std::string_view authcid, std::string_view password);

 private:
  storage::MailStore& store_;
  AuthThrottle& throttle_;
};

}  // namespace postamt::auth
