#pragma once
// What the SMTP server engine reports to its driver (DESIGN "An engine's face"). Events
// are plain structs in one std::variant; next_event() hands them out in protocol order.
//
// Policy events (MailFrom, RcptTo, DataBegin, MessageEnd, AuthBegin, AuthResponse) need
// an answer from the driver (ServerEngine::accept_* / reject / message_stored / auth_*);
// the engine processes nothing further until it gets it. The others are notices.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/smtp/data_decoder.hpp"
#include "proto/smtp/esmtp_parameters.hpp"
#include "proto/smtp/reply.hpp"

namespace postamt::proto::smtp {

// HELO or EHLO was accepted and answered. Any transaction was reset (RFC 5321 §4.1.4).
struct Ehlo {
  std::string domain;     // the argument as sent (printable ASCII, checked for nothing else)
  bool extended = false;  // EHLO (extensions negotiated) rather than HELO
};

// Policy: accept_mail() or reject(). Parameters are already checked against what was
// announced; SIZE is already checked against max_message_size.
struct MailFrom {
  std::string reverse_path;  // canonical mailbox; empty for the null sender "<>"
  std::optional<std::uint64_t> size;
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
  DsnRet ret = DsnRet::unspecified;
  std::optional<std::string> envid;
  std::optional<std::string> auth;  // AUTH= (RFC 4954 §5): a mailbox or "<>"
};

// Policy: accept_rcpt() or reject().
struct RcptTo {
  std::string forward_path;  // canonical mailbox; "postmaster" (no domain) for <Postmaster>
  DsnNotify notify;
  std::optional<Orcpt> orcpt;
};

// Policy: the client wants to send the message (DATA, or the first BDAT chunk).
// accept_data() lets it come (354 for DATA); reject() refuses (for BDAT the engine then
// reads and drops the chunk before replying, RFC 3030 §2).
struct DataBegin {
  bool chunking = false;  // BDAT rather than DATA
};

// Message content, in order: dot-unstuffed, CRLF line ends only, never a NUL.
struct MessageChunk {
  std::string bytes;
};

// Policy: the whole message arrived intact. Answer with message_stored(queue_id) once it
// is durable, or reject() with 4xx/5xx (DESIGN "Durability promise").
struct MessageEnd {
  std::uint64_t size = 0;  // decoded octets (what RFC 1870 SIZE counts)
};

// The message failed in transit (too big, bare CR/LF, NUL, over-long line). The driver
// drops what it stored; no more chunks come for it. The engine itself sends `reply` once
// the data really ended (after <CRLF>.<CRLF>, or after the BDAT chunk), then resets the
// transaction.
struct MessageAborted {
  DataError reason;
  Reply reply;
};

// The engine answered "220 2.0.0 Ready to start TLS". The driver runs the handshake and
// then calls tls_started(); on failure it just closes the connection.
struct StartTls {};

// Policy: AUTH (RFC 4954). Drive the SASL mechanism, then answer with auth_challenge(),
// auth_succeeded() or auth_failed().
struct AuthBegin {
  std::string mechanism;  // upper-cased, one of ServerOptions::auth_mechanisms
  // The initial response exactly as sent: base64, or "=" for an empty one (RFC 4954
  // §4), which is what proto/sasl's ServerExchange::start() takes; absent when none.
  std::optional<std::string> initial_response;
};

// Policy: the client's answer to a 334 challenge, base64 as sent (syntax checked).
struct AuthResponse {
  std::string response;
};

// The client cancelled the exchange with "*" (the engine replied 501 5.0.0), or broke
// it (bad base64, over-long line); the driver drops its SASL state.
struct AuthCancelled {};

// RSET: the transaction was reset (RFC 5321 §4.1.1.5).
struct Rset {};

// QUIT was answered with 221; wants_close() is true once this was handed out.
struct Quit {};

using Event = std::variant<Ehlo, MailFrom, RcptTo, DataBegin, MessageChunk, MessageEnd,
                           MessageAborted, StartTls, AuthBegin, AuthResponse, AuthCancelled,
                           Rset, Quit>;

// The transaction so far: the accepted MAIL and the accepted recipients.
struct Envelope {
  std::optional<MailFrom> mail;
  std::vector<RcptTo> recipients;
  bool chunking = false;  // the message is coming by BDAT
};

}  // namespace postamt::proto::smtp
