#pragma once
// OutboundGuard: per-account outbound limits and holds at the submission path (issue 15
// §6). The SMTP session asks it at MAIL FROM and RCPT TO of an authenticated submission
// and tells it about each accepted message; the login drive tells it about successful
// logins; a periodic task watches the bounce signal, refreshes the hold gauge and notices
// holds lifted by `postamt security release` (the CLI writes the store; the server re-reads
// it every few seconds and wakes the queue).
//
// The decisions are security/outbound_limits (pure); the counts live in the store (hourly
// rows per account), so a restart forgets nothing. On a breach with hold_on_breach the
// account is HELD: its queued mail stays queued (MailStore::due_queue skips it), its
// submissions get 451 4.7.1, and a notice goes to its INBOX and to the postmaster.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/config.hpp"
#include "proto/smtp/reply.hpp"
#include "security/outbound_limits.hpp"

namespace postamt {
namespace storage {
class MailStore;
class BlobStore;
}  // namespace storage
namespace net {
class BlockingPool;
}
namespace delivery {
class GroupCommitter;
}
}  // namespace postamt

namespace postamt::smtp {

struct OutboundGuardDependencies {
  const Config& config;
  storage::MailStore& store;
  storage::BlobStore& blobs;
  net::BlockingPool& pool;
  delivery::GroupCommitter& committer;
};

// What one SMTP transaction has asked for so far (the session keeps one, reset with the
// transaction).
struct OutboundTally {
  std::optional<security::ActivitySummary> activity;  // read at MAIL FROM
  std::uint64_t recipients = 0;
  std::uint64_t new_recipients = 0;
};

class OutboundGuard {
 public:
  explicit OutboundGuard(OutboundGuardDependencies dependencies);
  ~OutboundGuard();
  OutboundGuard(const OutboundGuard&) = delete;
  OutboundGuard& operator=(const OutboundGuard&) = delete;

  // MAIL FROM of a submission by `account`: nullopt to go on, else the refusal (451 4.7.1
  // while held, or on the breach this message would make).
  asio::awaitable<std::optional<proto::smtp::Reply>> check_mail(std::string account, OutboundTally& tally);
  // RCPT TO, once the recipient is otherwise acceptable.
  asio::awaitable<std::optional<proto::smtp::Reply>> check_rcpt(std::string account, std::string recipient,
                                                               OutboundTally& tally);
  // End of DATA, once the message is stored: counts it and its recipients.
  asio::awaitable<void> count_accepted(std::string account, std::vector<std::string> recipients);

  // A successful login (any protocol, any thread): the many-networks signal. A hold it
  // leads to is written in the background (on the executor given to start()).
  void login_succeeded(std::string_view account, std::string_view client_ip);

  // Starts the periodic task on `executor`; `on_released` runs there when a hold was lifted
  // (the queue should look again).
  void start(asio::any_io_executor executor, std::function<void()> on_released);
  void stop();

  // Blocking (storage pool or a tool): holds the account with the log line, the metrics and
  // the notices. false: it was held already (nothing sent again).
  bool hold_blocking(const std::string& account, const security::Breach& breach, std::string_view trigger);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postamt::smtp
