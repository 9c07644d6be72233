#include "auth/authenticator.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "auth/address.hpp"
#include "auth/password_hash.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "net/blocking_pool.hpp"
#include "security/security_event.hpp"

namespace postamt::auth {
namespace {

using Clock = AuthThrottle::Clock;

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

metrics::Counter& cache_hits() {
  static metrics::Counter& counter = metrics::registry().counter(
      "postamt_auth_cache_hits_total", "Logins taken from the verified-credential cache, without hashing");
  return counter;
}

asio::awaitable<void> sleep_for(Clock::duration duration) {
  if (duration <= Clock::duration{}) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// A place in the hash pool's bounded queue, given back however the hashing ends.
class HashSlot {
 public:
  explicit HashSlot(std::atomic<unsigned>& in_use) : in_use_(in_use), ahead_(in_use.fetch_add(1)) {}
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;
  ~HashSlot() { in_use_.fetch_sub(1); }
  bool beyond(unsigned queue_limit) const { return ahead_ >= queue_limit; }

 private:
  std::atomic<unsigned>& in_use_;
  const unsigned ahead_;  // logins hashing or queued before this one
};

AuthOutcome decided(AuthOutcome::Result result, std::string detail, std::string_view counter) {
  outcome_counter(counter).inc();
  AuthOutcome outcome;
  outcome.result = result;
  outcome.detail = std::move(detail);
  return outcome;
}

// Issue 15 §8: every failed login is a security event (and counts towards a ban); the
// failure that locks its source is one more.
void report_failure(const LoginAttempt& attempt, const AuthOutcome& outcome) {
  security::SecurityEvent event;
  event.kind = security::EventKind::auth_failure;
  event.ip = std::string(attempt.client_ip);
  event.account = std::string(attempt.authcid.substr(0, 320));
  event.protocol = std::string(attempt.protocol);
  event.fields = {{"why", outcome.result == AuthOutcome::Result::locked_out ? "locked_out" : outcome.detail}};
  event.distinct = outcome.fingerprint;
  security::emit(event);
  if (!outcome.source_locked) return;
  event.kind = security::EventKind::auth_lockout;
  event.fields = {{"why", "too many failures from this address"}};
  event.distinct = 0;
  security::emit(std::move(event));
}

}  // namespace

// What the storage step leaves for the hash pool: either a decision, or a hash to verify.
struct Authenticator::Pending {
  std::optional<AuthOutcome> decision;
  std::string client_ip;
  std::string address;  // normalised; empty when the user name is malformed
  CredentialCache::Digest digest{};
  std::string stored_hash;                    // the account's, or the decoy's
  std::optional<storage::AccountRecord> account;
  std::string failure;                        // set when no password can match
};

Authenticator::Authenticator(storage::MailStore& store, AuthThrottle& throttle, CredentialCache& cache,
                             net::BlockingPool* storage_pool, AuthenticatorOptions options)
    : store_(store),
      throttle_(throttle),
      cache_(cache),
      storage_pool_(storage_pool),
      options_(options),
      hash_pool_(std::make_unique<net::BlockingPool>(std::max(options.hash_threads, 1u))) {}

Authenticator::~Authenticator() = default;

void Authenticator::stop() { hash_pool_->stop(); }

Authenticator::Pending Authenticator::prepare(std::string_view client_ip, std::string_view authzid,
                                              std::string_view authcid, std::string_view password,
                                              Clock::time_point now) {
  Pending pending;
  pending.client_ip = std::string(client_ip);
  pending.stored_hash = decoy_hash();
  auto address = normalize_address(authcid);
  if (!address) {
    pending.digest = cache_.digest(authcid, password);
    pending.failure = "malformed user name";
    return pending;
  }
  pending.address = std::move(*address);
  pending.digest = cache_.digest(pending.address, password);
  if (!authzid.empty()) {
    auto as = normalize_address(authzid);
    if (!as || *as != pending.address) pending.failure = "authorization identity differs from the user";
  }
  auto account = store_.find_account(pending.address);
  if (!account) {
    if (account.error().temporary()) {
      pending.decision = decided(AuthOutcome::Result::temporary_failure, account.error().message,
                                 "temporary_failure");
      return pending;
    }
    if (pending.failure.empty()) pending.failure = "unknown user";
    return pending;
  }
  pending.stored_hash = account->password_hash;
  pending.account = std::move(*account);
  // The cache holds only what verified against this very stored hash: a changed password
  // or a deleted account never hits.
  if (pending.failure.empty() &&
      cache_.verified(pending.address, pending.digest, pending.stored_hash, now)) {
    cache_hits().inc();
    pending.decision = conclude(pending, true, now);
  }
  return pending;
}

AuthOutcome Authenticator::conclude(Pending& pending, bool password_matches, Clock::time_point now) {
  const Fingerprint fingerprint = CredentialCache::fingerprint(pending.digest);
  if (!pending.failure.empty() || !password_matches) {
    const bool locked = throttle_.record_failure(pending.client_ip, pending.address, fingerprint, now);
    AuthOutcome outcome = decided(AuthOutcome::Result::bad_credentials,
                                  pending.failure.empty() ? "wrong password" : pending.failure, "failure");
    outcome.source_locked = locked;
    outcome.fingerprint = fingerprint;
    return outcome;
  }
  if (pending.account->disabled) {
    return decided(AuthOutcome::Result::disabled, "account disabled", "disabled");
  }
  throttle_.record_success(pending.client_ip, pending.address, now);
  cache_.remember(pending.address, pending.digest, pending.stored_hash, now);
  AuthOutcome outcome = decided(AuthOutcome::Result::ok, {}, "success");
  outcome.account = std::move(*pending.account);
  return outcome;
}

AuthOutcome Authenticator::authenticate(std::string_view client_ip, std::string_view authzid,
                                        std::string_view authcid, std::string_view password) {
  const auto now = Clock::now();
  if (throttle_.is_locked_out(client_ip, now)) {
    return decided(AuthOutcome::Result::locked_out, "too many failures from this address", "locked_out");
  }
  Pending pending = prepare(client_ip, authzid, authcid, password, now);
  if (pending.decision) return std::move(*pending.decision);
  return conclude(pending, verify_password(password, pending.stored_hash), now);
}

asio::awaitable<AuthOutcome> Authenticator::log_in(LoginAttempt attempt) {
  const std::string protocol(attempt.protocol);
  AuthOutcome outcome;
  if (throttle_.is_locked_out(attempt.client_ip, Clock::now())) {
    outcome = decided(AuthOutcome::Result::locked_out, "too many failures from this address", "locked_out");
    if (attempt.failures) attempt.failures->inc();
    log::info(protocol + ".auth_locked_out", {{"sid", attempt.session_id}, {"remote", attempt.client_ip}});
    report_failure(attempt, outcome);
    co_return outcome;
  }
  // An account under attack slows every attempt on it, the owner's included, never locks.
  if (auto address = normalize_address(attempt.authcid)) {
    co_await sleep_for(throttle_.account_delay(*address, Clock::now()));
  }
  Pending pending = co_await storage_pool_->run([&] {
    return prepare(attempt.client_ip, attempt.authzid, attempt.authcid, attempt.password, Clock::now());
  });
  if (pending.decision) {
    outcome = std::move(*pending.decision);
  } else if (HashSlot slot(hashing_); slot.beyond(options_.hash_queue)) {
    outcome = decided(AuthOutcome::Result::temporary_failure, "password hashing queue full", "temporary_failure");
  } else {
    const bool matches =
        co_await hash_pool_->run([&] { return verify_password(attempt.password, pending.stored_hash); });
    outcome = conclude(pending, matches, Clock::now());
  }
  switch (outcome.result) {
    case AuthOutcome::Result::ok:
      for (const auto& observer : login_observers_) observer(outcome.account.address, attempt.client_ip);
      co_return outcome;
    case AuthOutcome::Result::temporary_failure:
      log::warn(protocol + ".auth_unavailable", {{"sid", attempt.session_id}, {"remote", attempt.client_ip},
                                                 {"why", outcome.detail}});
      break;
    default:
      if (attempt.failures) attempt.failures->inc();
      log::info(protocol + ".auth_failed", {{"sid", attempt.session_id}, {"remote", attempt.client_ip},
                                            {"user", attempt.authcid}, {"why", outcome.detail}});
      report_failure(attempt, outcome);
      break;
  }
  // A failed attempt costs the client time before it may try again.
  co_await sleep_for(options_.failure_delay);
  co_return outcome;
}

}  // namespace postamt::auth
