#pragma once
// Authenticator: checks a user name and password against the directory, with what every
// protocol shares (DESIGN.md "Security rules"):
// - AuthThrottle: a locked source is refused without its password being looked at; an
//   account with recent failures waits a growing delay first.
// - CredentialCache: a password verified recently against the same stored hash is taken
//   without hashing again.
// - Password hashing runs on its own small pool with a bounded queue, never on the storage
//   pool: a flood of logins cannot stall deliveries or store calls. When the queue is full
//   the login fails temporarily.
// - A failed attempt is answered after auth.failure_delay.
// log_in() is the whole drive, called by the SMTP, POP3 and IMAP sessions once their SASL
// exchange (proto/sasl) or LOGIN/USER+PASS has produced credentials.
#include <asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_throttle.hpp"
#include "auth/credential_cache.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::metrics {
class Counter;
}
namespace postamt::net {
class BlockingPool;
}

namespace postamt::auth {

struct AuthOutcome {
  enum class Result {
    ok,
    bad_credentials,     // wrong password, unknown user, or authzid not allowed
    locked_out,          // too many failures from this source
    disabled,            // the account exists but may not log in
    temporary_failure,   // the store failed or the hashing queue is full; try again later
  };
  Result result = Result::bad_credentials;
  storage::AccountRecord account;  // set when ok
  std::string detail;              // for the log, never for the client
  bool source_locked = false;      // this failure made the throttle lock the source
  std::uint64_t fingerprint = 0;   // of the presented credentials (a failure's distinctness)
};

struct AuthenticatorOptions {
  std::chrono::milliseconds failure_delay{1000};
  unsigned hash_threads = 2;
  unsigned hash_queue = 64;  // logins hashing or waiting to; beyond: temporary failure
};

// One login as a session presents it.
struct LoginAttempt {
  std::string_view protocol;    // "smtp", "pop3", "imap": log event prefix
  std::uint64_t session_id = 0;  // for the log
  std::string_view client_ip;
  std::string_view authzid;  // empty or the same as authcid (no proxy authorisation)
  std::string_view authcid;
  std::string_view password;
  metrics::Counter* failures = nullptr;  // the protocol's failed-login counter
};

class Authenticator {
 public:
  // storage_pool: where store reads run in log_in(); null when only authenticate() is used.
  Authenticator(storage::MailStore& store, AuthThrottle& throttle, CredentialCache& cache,
                net::BlockingPool* storage_pool = nullptr, AuthenticatorOptions options = {});
  ~Authenticator();

  // The whole drive, asynchronous: throttle, account delay, store read on the storage pool,
  // hashing on the hash pool, failure delay, log line and failure counter.
  asio::awaitable<AuthOutcome> log_in(LoginAttempt attempt);

  // The same check, blocking in the calling thread, without delays (tests and tools).
  AuthOutcome authenticate(std::string_view client_ip, std::string_view authzid,
                           std::string_view authcid, std::string_view password);

  void stop();  // stops the hash pool (at shutdown)

  // Told of every successful log_in() (the account as stored, the client's address), on
  // the session's thread; must not block. Issue 15 §6 (logins from many networks). Set
  // before serving.
  // Several observers may be added (the outbound guard's logins signal, the security
  // monitor's new-network events); each is told in the order added.
  using LoginObserver = std::function<void(std::string_view account, std::string_view client_ip)>;
  void add_login_observer(LoginObserver observer) { login_observers_.push_back(std::move(observer)); }

 private:
  struct Pending;
  Pending prepare(std::string_view client_ip, std::string_view authzid, std::string_view authcid,
                  std::string_view password, AuthThrottle::Clock::time_point now);
  AuthOutcome conclude(Pending& pending, bool password_matches, AuthThrottle::Clock::time_point now);

  storage::MailStore& store_;
  AuthThrottle& throttle_;
  CredentialCache& cache_;
  net::BlockingPool* storage_pool_;
  const AuthenticatorOptions options_;
  std::unique_ptr<net::BlockingPool> hash_pool_;
  std::atomic<unsigned> hashing_{0};  // logins on or queued for the hash pool
  std::vector<LoginObserver> login_observers_;
};

}  // namespace postamt::auth
