#pragma once
// The SMTP client driver: one session over a connected stream, carrying several queued
// messages to one server (RFC 5321 §3.3; connection reuse), over the sans-I/O
// proto::smtp::ClientEngine. It does the I/O the engine asks for (STARTTLS handshake,
// content, reply timeouts) and turns replies into per-recipient outcomes.
//
// Content the server cannot take is handled per message before MAIL:
//   - a UTF-8 envelope or UTF-8 header to a server without SMTPUTF8: permanent
//     (RFC 6531 §3.4, 5.6.7) — there is no faithful downgrade;
//   - an 8-bit body to a server without 8BITMIME: converted to 7 bit (RFC 6152 §3), or
//     permanent 5.6.3 when conversion is impossible.
#include <asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "net/stream.hpp"
#include "proto/smtp/client_options.hpp"
#include "proto/smtp/reply.hpp"
#include "queue/attempt_outcome.hpp"
#include "storage/api/storage_error.hpp"
#include "storage/api/types.hpp"

namespace postamt::queue {

// Reads a queued message's content (the blob), off the I/O thread.
using ContentLoader =
    std::function<asio::awaitable<storage::StoreResult<std::string>>(const storage::QueueMessage&)>;

// More messages for the same server once the given ones are done (connection reuse):
// the scheduler hands out what fell due meanwhile. Empty: nothing more, QUIT.
using MoreMessages = std::function<asio::awaitable<std::vector<storage::QueueMessage>>()>;

// Records outcomes as soon as a message is done, so that a crash later in a long
// session repeats as little as possible. Outcomes not handed to it come in the result.
using OutcomeSink = std::function<asio::awaitable<void>(std::vector<RecipientOutcome>)>;

struct TransferSettings {
  proto::smtp::ClientOptions client;
  std::string server_name;  // the MX host name: SNI and the DSN's Remote-MTA
  std::string tls_failure_note;  // appended to a failed handshake's reason
  std::chrono::seconds reply_timeout{300};
  std::size_t max_messages = 100;
  MoreMessages more_messages;  // may be empty
  OutcomeSink record;          // may be empty
};

struct TransferResult {
  std::vector<RecipientOutcome> outcomes;
  // Messages this session did not finish (the connection broke, TLS failed, the limit
  // per connection was reached): try them on another host or connection.
  std::vector<storage::QueueMessage> unfinished;
  // Why the session ended early ("" when it ended with QUIT).
  std::string failure;
  bool tls_used = false;
  bool tls_handshake_failed = false;  // after the server's 220 to STARTTLS
};

asio::awaitable<TransferResult> transfer_messages(net::Stream& stream, const TransferSettings& settings,
                                                  std::vector<storage::QueueMessage> messages,
                                                  const ContentLoader& load_content);

// One line for logs, the queue and DSNs: "550 5.1.1 text" (multi-line replies joined with
// spaces, control characters replaced, at most 512 octets).
std::string reply_line(const proto::smtp::Reply& reply);

}  // namespace postamt::queue
