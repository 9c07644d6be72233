#pragma once
// The running server's throttle as the operator sees it, through two things in the data
// directory (the CLI is another process and the throttle lives in the server's memory):
// - `auth-locks`: locked sources and slowed accounts, one per line
//   "source|account TAB key TAB failures TAB until-unix-time TAB delay-ms", rewritten by
//   the server (atomically, mode 0600) within a quarter second of a change.
// - `auth-unlock/`: one empty file per unlock request, named by the hex of the address or
//   account to lift. The server takes the requests within a quarter second, lifts, rewrites
//   `auth-locks`, and deletes the request file; the CLI waits for that deletion.
// Files, not the store: the lock state is the server's memory (it starts empty after a
// restart) and needs no schema; names carry the request so the server reads no file the
// CLI wrote (it may run as another user).
#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "auth/auth_throttle.hpp"

namespace postamt::auth {

std::filesystem::path locks_file(const std::filesystem::path& data_dir);
std::filesystem::path unlock_requests_dir(const std::filesystem::path& data_dir);

struct LockLine {
  std::string kind;  // "source" or "account"
  std::string key;
  unsigned failures = 0;
  std::int64_t until = 0;  // Unix time
  std::int64_t delay_ms = 0;
};

std::string format_locks(const std::vector<ThrottleEntry>& entries, AuthThrottle::Clock::time_point now);
std::vector<LockLine> parse_locks(std::string_view text);

// The request file for `target` (created by the CLI).
std::filesystem::path unlock_request_path(const std::filesystem::path& data_dir, std::string_view target);
// The targets of the pending requests, their files deleted.
std::vector<std::string> take_unlock_requests(const std::filesystem::path& data_dir);

// Runs on the server: every 250 ms prunes the throttle, applies unlock requests and writes
// `auth-locks` when the throttle changed.
class ThrottleStateSync {
 public:
  ThrottleStateSync(asio::any_io_executor executor, AuthThrottle& throttle, std::filesystem::path data_dir);
  void start();
  void stop();

 private:
  void tick();
  void schedule();

  asio::steady_timer timer_;
  AuthThrottle& throttle_;
  const std::filesystem::path data_dir_;
  std::uint64_t written_changes_ = ~std::uint64_t{0};
  bool stopped_ = false;
};

}  // namespace postamt::auth
