#pragma once
// What the SMTP client engine reports to its driver, in protocol order. Events marked
// "answer" make the engine wait for the driver's call; the others are notices.
#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "proto/smtp/reply.hpp"

namespace postamt::proto::smtp {

// Answer: the session is set up (greeting, EHLO, STARTTLS, AUTH) and idle. Call
// send_message() or quit(). Comes again after every MessageResult.
struct ClientReady {};

// Answer: the server said 220 to STARTTLS. Run the TLS handshake on the connection, then
// call tls_started(); if it fails, close the connection (the attempt failed).
struct NeedTls {};

// Answer: the server said 354 to DATA. Pass the content through message_data() in any
// pieces (CRLF line ends, not dot-stuffed), then call message_end().
struct NeedMessageData {};

// The server's answer to RCPT for recipients[index] of the current message. If MAIL
// was refused, every recipient gets that refusal here. Every recipient gets exactly one.
struct RecipientResult {
  std::size_t index = 0;
  Reply reply;
};

// The outcome of the whole message: the reply to the end of data for recipients whose
// RecipientResult was positive; a refusal when MAIL, every RCPT or DATA was refused, or
// when the message was refused before MAIL (too big for the server's SIZE, 552 5.3.4).
struct MessageResult {
  Reply reply;
};

// QUIT was answered (or the server closed after QUIT): close the connection.
struct Finished {};

// The session cannot go on: close the connection. A message without its MessageResult
// (and recipients without RecipientResult) were not delivered on this attempt.
struct ConnectionFailed {
  std::string reason;
  bool temporary = true;        // false: retrying this host will not help (5xx, policy)
  std::optional<Reply> reply;   // the server's reply that ended it, if any
};

using ClientEvent = std::variant<ClientReady, NeedTls, NeedMessageData, RecipientResult,
                                 MessageResult, Finished, ConnectionFailed>;

}  // namespace postamt::proto::smtp
