#include "auth/authenticator.hpp"

#include "auth/address.hpp"
#include "auth/password_hash.hpp"
#include "base/metrics.hpp"

namespace postamt::auth {
namespace {

// Verifying against this when the user is unknown makes a wrong user name cost the same
// time as a wrong password, so timing does not reveal which accounts exist.
const std::string& decoy_hash() {
  static const std::string hash = hash_password("postamt decoy password");
  return hash;
}

metrics::Counter& outcome_counter(std::string_view result) {
  return metrics::registry().counter("postamt_auth_attempts_total", "Authentication attempts by result",
                                     {{"result", std::string(result)}});
}

}  // namespace

AuthOutcome Authenticator::authenticate(std::string_view client_ip, std::string_view authzid,
                                        std::string_view authcid, std::string_view password) {
  const auto now = AuthThrottle::Clock::now();
  AuthOutcome outcome;
  if (throttle_.is_locked_out(client_ip, now)) {
    outcome.result = AuthOutcome::Result::locked_out;
    outcome.detail = "too many failures from this address";
    outcome_counter("locked_out").inc();
    return outcome;
  }
  auto fail = [&](std::string detail) {
    throttle_.record_failure(client_ip, now);
    outcome.result = AuthOutcome::Result::bad_credentials;
    outcome.detail = std::move(detail);
    outcome_counter("failure").inc();
    return outcome;
  };

  auto address = normalize_address(authcid);
  if (!address) {
    verify_password(password, decoy_hash());
    return fail("malformed user name");
  }
  if (!authzid.empty()) {
    auto as = normalize_address(authzid);
    if (!as || *as != *address) return fail("authorization identity differs from the user");
  }
  auto account = store_.find_account(*address);
  if (!account) {
    if (account.error().temporary()) {
      outcome.result = AuthOutcome::Result::temporary_failure;
      outcome.detail = account.error().message;
      outcome_counter("temporary_failure").inc();
      return outcome;
    }
    verify_password(password, decoy_hash());
    return fail("unknown user");
  }
  if (!verify_password(password, account->password_hash)) return fail("wrong password");
  if (account->disabled) {
    outcome.result = AuthOutcome::Result::disabled;
    outcome.detail = "account disabled";
    outcome_counter("disabled").inc();
    return outcome;
  }
  throttle_.record_success(client_ip, now);
  outcome.result = AuthOutcome::Result::ok;
  outcome.account = std::move(*account);
  outcome_counter("success").inc();
  return outcome;
}

}  // namespace postamt::auth
