#pragma once
// ClientEngine: the sans-I/O SMTP client for outbound delivery (RFC 5321 with PIPELINING,
// SIZE, 8BITMIME, SMTPUTF8, DSN, STARTTLS, AUTH PLAIN and ENHANCEDSTATUSCODES), the
// mirror of ServerEngine (DESIGN "An engine's face"). It never touches a socket, a clock
// or the disk: server bytes go in with receive(), events come out of next_event(),
// command bytes leave through pending_output()/consume_output().
//
// Driving it:
//   ClientEngine engine(options);                // waits for the 220 greeting
//   loop:
//     while (auto event = engine.next_event())   // in protocol order
//       handle(*event);                          // ClientReady: send_message() or quit()
//                                                // NeedTls: handshake, tls_started()
//                                                // NeedMessageData: message_data()..., message_end()
//     write(engine.pending_output()); engine.consume_output(written);
//     if (engine.wants_close()) break;
//     bytes = read_some(); if EOF: engine.connection_closed(); else engine.receive(bytes);
//
// Replies are read as soon as they arrive, so an event may be overtaken by a later one
// still queued: after a ClientReady or NeedMessageData the session may already have
// ended (a 421, a broken reply). Answers given then are ignored and ConnectionFailed
// follows; awaiting() tells the truth at any moment.
//
// Session: greeting 220; EHLO, or HELO when EHLO is refused with 5xx (RFC 5321 §4.1.4);
// STARTTLS per TlsPolicy and EHLO again (RFC 3207 §4.2); AUTH PLAIN when credentials
// are set (RFC 4954); then any number of messages, QUIT at the end. Per message: MAIL,
// one RCPT per recipient, DATA only when some RCPT was accepted (else RSET). With
// PIPELINING (RFC 2920 §3.1) MAIL, every RCPT and DATA leave in one batch; otherwise
// each waits for the previous reply. EHLO, STARTTLS, AUTH, DATA content and QUIT are
// never pipelined.
//
// Extensions the message needs but the server lacks (8BITMIME, SMTPUTF8, DSN) are not
// refused here: their parameters are left off and the driver decides (convert, bounce,
// or go on) by asking server_supports() when ClientReady comes. A message larger than
// the server's SIZE is refused before MAIL (RFC 1870 §6): 552 5.3.4.
//
// Bounds: reply lines and lines per reply are limited (reply_parser.hpp); a broken or
// over-long reply fails the connection (temporary). Output holds the commands of one
// batch plus whatever message content the driver passed and has not flushed yet.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "proto/pop3/dot_stuffer.hpp"
#include "proto/smtp/client_capabilities.hpp"
#include "proto/smtp/client_events.hpp"
#include "proto/smtp/client_options.hpp"
#include "proto/smtp/reply.hpp"
#include "proto/smtp/reply_parser.hpp"

namespace postamt::proto::smtp {

class ClientEngine {
 public:
  // The driver call the engine waits for, if any.
  enum class Awaiting : std::uint8_t {
    nothing,  // a server reply
    ready,    // ClientReady: send_message() or quit()
    tls,      // NeedTls: tls_started()
    data,     // NeedMessageData: message_data() and message_end()
    closed,   // Finished or ConnectionFailed: nothing more
  };

  explicit ClientEngine(ClientOptions options);

  // Server bytes, split anywhere.
  void receive(std::string_view bytes);
  // The server closed the connection (EOF): Finished after QUIT, else ConnectionFailed.
  void connection_closed();

  std::optional<ClientEvent> next_event();

  // --- answers ---
  void tls_started();                            // after NeedTls and a good handshake
  void send_message(OutboundMessage message);    // after ClientReady
  void message_data(std::string_view content);   // after NeedMessageData; CRLF line ends
  void message_end();                            // appends <CRLF>.<CRLF> (RFC 5321 §4.1.1.4)
  // QUIT (RFC 5321 §4.1.1.10), then Finished. During NeedTls or NeedMessageData it just
  // ends the session (Finished) without a QUIT: close the connection.
  void quit();

  // --- output ---
  std::string_view pending_output() const;
  void consume_output(std::size_t n);
  // True once the session ended (Finished or ConnectionFailed) and every event was
  // handed out. Flush the output (it may hold a QUIT), then close.
  bool wants_close() const;

  // --- state for the driver ---
  Awaiting awaiting() const { return awaiting_; }
  const ServerCapabilities& capabilities() const { return capabilities_; }
  bool server_supports(Extension extension) const { return capabilities_.supports(extension); }
  bool tls_active() const { return tls_active_; }
  bool authenticated() const { return authenticated_; }
  const OutboundMessage* current_message() const {
    return message_ ? &*message_ : nullptr;
  }
  const ClientOptions& options() const { return options_; }

 private:
  // What the next server reply answers, in command order.
  enum class Expect : std::uint8_t {
    greeting,
    ehlo,
    helo,
    starttls,
    auth,
    mail,
    rcpt,
    data,
    data_end,
    ignored_data_end,  // "." sent after a 354 that came although no RCPT was accepted
    rset,
    quit,
  };
  struct Pending {
    Expect expect;
    std::size_t index = 0;  // the recipient, for rcpt
  };

  void process_replies();
  void on_reply(const Pending& pending, const Reply& reply);
  void on_greeting(const Reply& reply);
  void on_ehlo(const Reply& reply);
  void on_helo(const Reply& reply);
  void on_starttls(const Reply& reply);
  void on_auth(const Reply& reply);
  void on_mail(const Reply& reply);
  void on_rcpt(std::size_t index, const Reply& reply);
  void on_data(const Reply& reply);
  void on_data_end(const Reply& reply);
  void on_rset(const Reply& reply);

  void send_command(std::string line, Expect expect, std::size_t index = 0);
  void send_ehlo();
  void after_hello();  // STARTTLS, AUTH or ready
  void become_ready();
  void refuse_before_mail(const Reply& reply);
  void finish_message(const Reply& reply);
  void finish_message_with_rset();
  void compact_output();
  const Reply& refusal() const;  // the MessageResult when no RCPT was accepted
  void fail(std::string reason, bool temporary, std::optional<Reply> reply, bool send_quit);
  void fail_with(std::string_view what, const Reply& reply, bool send_quit);

  ClientOptions options_;
  ReplyParser parser_;
  std::deque<Pending> pending_;
  std::deque<ClientEvent> events_;
  std::string output_;
  std::size_t output_start_ = 0;

  Awaiting awaiting_ = Awaiting::nothing;
  ServerCapabilities capabilities_;
  bool tls_active_ = false;
  bool starttls_refused_ = false;  // opportunistic TLS refused: go on in the clear
  bool authenticated_ = false;
  bool quitting_ = false;
  bool closed_ = false;

  std::optional<OutboundMessage> message_;
  bool pipelined_ = false;        // the current message went out as one batch
  std::optional<Reply> mail_refusal_;
  std::optional<Reply> rcpt_refusal_;  // a transient one wins: retrying may help
  std::size_t accepted_ = 0;
  pop3::DotStuffer stuffer_;
};

}  // namespace postamt::proto::smtp
