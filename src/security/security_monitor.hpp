#pragma once
// SecurityMonitor: the server's half of security events and bans (issue 15 §7, §8).
// - The sink of security::emit(): events are queued (bounded; beyond, dropped and counted)
//   and written to the store in batches once a second on the blocking pool, never on an
//   I/O thread; old events are pruned hourly (retention days, row cap).
// - Offence events (auth_failure, recipient_probe, protocol_abuse) feed the BanTracker; a
//   new ban is announced (a `ban` event) and stored.
// - Every two seconds the active bans are read back from the store: that is how the CLI's
//   `security unban` (another process) reaches the server, and how bans survive a restart.
// - banned(ip): the listeners' admission check at accept, before any session work.
// - login_succeeded(): a `login_new_network` event when an account logs in from a network
//   it had not used since the server started (the first login seen only teaches).
#include <asio/any_io_executor.hpp>

#include <memory>
#include <string_view>

#include "base/config.hpp"

namespace postamt::net {
class BlockingPool;
}
namespace postamt::storage {
class MailStore;
}

namespace postamt::security {

class SecurityMonitor {
 public:
  // trusted: networks never banned (auth.trusted_networks and security.trusted_networks).
  SecurityMonitor(const SecurityConfig& config, std::vector<std::string> trusted, storage::MailStore& store,
                  net::BlockingPool& pool);
  ~SecurityMonitor();

  // Loads the bans (blocking: at start-up), installs the event sink, starts the timer.
  void start(asio::any_io_executor executor);
  // Removes the sink and stops the timer.
  void stop();
  // Writes what is queued (blocking: at shutdown, after the I/O threads ended).
  void flush();

  bool banned(std::string_view ip) const;
  void login_succeeded(std::string_view account, std::string_view ip, std::string_view protocol);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace postamt::security
