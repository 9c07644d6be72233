#pragma once
// ServerEngine: the sans-I/O SMTP server (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
// SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING, DSN, STARTTLS and AUTH), in the shape of h11
// and Beast's parser (DESIGN "An engine's face"). It never touches a socket, a clock or
// the disk: bytes go in with receive(), events come out of next_event(), reply bytes
// leave through pending_output()/consume_output().
//
// Driving it:
//   engine.start();                             // queues the 220 greeting
//   loop:
//     while (auto event = engine.next_event())  // in protocol order
//       handle(*event);                         // policy events get an answer (below)
//     write(engine.pending_output()); engine.consume_output(written);
//     if (engine.wants_close()) break;
//     engine.receive(read_some());
//
// Pipelining (RFC 2920): commands are taken one at a time, in order; while a policy
// event waits for its answer the engine does nothing else, so replies always leave in
// command order. next_event() returns nullopt when it needs more bytes or an answer;
// that is when the driver flushes the output.
//
// Bounds: command lines are limited as line_limits.hpp explains and an over-long one is
// never buffered (LineBuffer); message content passes through DataDecoder and leaves as
// MessageChunk events of at most what one receive() delivered, so the engine holds about
// one network read plus one command line whatever the peer sends.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/line_buffer.hpp"
#include "proto/smtp/command_table.hpp"
#include "proto/smtp/data_decoder.hpp"
#include "proto/smtp/events.hpp"
#include "proto/smtp/line_limits.hpp"
#include "proto/smtp/reply.hpp"
#include "proto/smtp/server_options.hpp"

namespace postamt::proto::smtp {

class ServerEngine {
 public:
  // The answer the engine waits for, if any.
  enum class Awaiting : std::uint8_t {
    nothing,
    mail,     // MailFrom: accept_mail() / reject()
    rcpt,     // RcptTo: accept_rcpt() / reject()
    data,     // DataBegin: accept_data() / reject()
    message,  // MessageEnd: message_stored() / reject()
    auth,     // AuthBegin, AuthResponse: auth_challenge() / auth_succeeded() / auth_failed()
    tls,      // StartTls: tls_started() after the handshake
  };

  explicit ServerEngine(ServerOptions options);

  void start();  // queues the greeting: 220 <hostname> ESMTP Postamt

  // Any bytes, split anywhere. Ignored once the session is closing.
  void receive(std::string_view bytes);

  // The next event, or nullopt: more bytes needed, an answer pending, or closed.
  std::optional<Event> next_event();

  // --- answers to policy events ---
  void accept_mail();                             // 250 2.1.0
  void accept_rcpt();                             // 250 2.1.5
  void accept_data();                             // DATA: 354; BDAT: the chunk is read
  void message_stored(std::string_view queue_id);  // 250 2.0.0 Ok: queued as <id>
  // Refuses the pending MAIL, RCPT, DataBegin, MessageEnd or AUTH step. The code must be
  // 4xx or 5xx (anything else is sent as 451 4.3.0).
  void reject(Reply reply);
  void auth_challenge(std::string_view challenge);  // 334 <base64>; an AuthResponse follows
  void auth_succeeded(std::string user);            // 235 2.7.0
  void auth_failed(Reply reply);                    // e.g. 535 5.7.8
  // The TLS handshake after StartTls completed: everything the client sent before it is
  // discarded and the session is back at its start, unauthenticated, and must EHLO again
  // (RFC 3207 §4.2); STARTTLS is no longer announced.
  void tls_started();
  // Changes the AUTH mechanisms announced from the next EHLO on; an empty list withdraws
  // AUTH. For AUTH offered only under TLS (DESIGN "Security rules"): call it in the
  // StartTls handler, just before tls_started().
  void set_auth_mechanisms(std::vector<std::string> mechanisms);
  // Ends the session from the driver's side (idle timeout, server shutdown): queues the
  // reply (normally 421 4.x.x), drops pending events and input, and closes.
  void shutdown(Reply reply);

  // --- output ---
  std::string_view pending_output() const;
  void consume_output(std::size_t n);
  // True after QUIT's 221 or a 421, once every event was handed out. Flush the output,
  // then close. No event is produced after this is true.
  bool wants_close() const;

  // --- state for the driver ---
  Awaiting awaiting() const { return awaiting_; }
  const Envelope& envelope() const { return envelope_; }  // accepted MAIL and RCPTs
  const std::string& helo_domain() const { return helo_domain_; }  // empty before HELO/EHLO
  bool extended() const { return hello_ == Hello::ehlo; }
  bool tls_active() const { return tls_active_; }
  const std::optional<std::string>& authenticated_user() const { return user_; }
  unsigned errors() const { return errors_; }
  std::size_t buffered_input() const { return input_.buffered(); }
  const ServerOptions& options() const { return options_; }

 private:
  enum class Mode : std::uint8_t {
    command,  // lines are commands
    auth,     // lines are SASL responses (after a 334)
    data,     // DATA content up to <CRLF>.<CRLF>
    chunk,    // an accepted BDAT chunk
    discard,  // a refused BDAT chunk, read and dropped
  };
  enum class Hello : std::uint8_t { none, helo, ehlo };
  enum class Transaction : std::uint8_t { none, mail, rcpt, bdat };

  bool step();  // one unit of work; false when it needs more input
  bool step_line();
  bool step_data();
  bool step_chunk();
  bool step_discard();
  void on_command_line(std::string_view line);
  void on_auth_line(std::string_view line);

  unsigned state_bit() const;
  std::size_t line_limit(const CommandSpec& spec) const;
  NegotiatedExtensions negotiated() const;
  std::optional<Reply> refusal(const CommandSpec& spec, std::string_view argument) const;
  Reply sequence_error(const CommandSpec& spec) const;

  // Command handlers (server_commands.cpp).
  void cmd_hello(std::string_view argument, bool extended);
  void cmd_mail(std::string_view argument);
  void cmd_rcpt(std::string_view argument);
  void cmd_data();
  void cmd_bdat(std::string_view argument, std::optional<Reply> refused);
  void cmd_rset();
  void cmd_noop();
  void cmd_vrfy();
  void cmd_help();
  void cmd_quit();
  void cmd_starttls();
  void cmd_auth(std::string_view argument);
  Reply ehlo_reply() const;

  DataLimits data_limits() const;
  Reply data_error_reply(DataError error) const;
  void deliver_decoded(std::string bytes);  // MessageChunk, or MessageAborted once
  void finish_chunk();
  void discard_chunk(std::uint64_t size, Reply reply, bool counts_as_error);
  void end_transaction();

  void send(const Reply& reply);
  void send(unsigned code, std::string_view status, std::string_view text);
  void protocol_error(const Reply& reply);  // sends it and counts it; 421 past the budget
  void close_with(const Reply& reply);
  bool can_step() const;

  ServerOptions options_;
  LineLimits limits_;  // after EHLO; before it every command has kBaseCommandLine
  LineBuffer input_;
  std::deque<Event> events_;
  std::string output_;
  std::size_t output_start_ = 0;

  Mode mode_ = Mode::command;
  Hello hello_ = Hello::none;
  Transaction transaction_ = Transaction::none;
  Awaiting awaiting_ = Awaiting::nothing;
  bool started_ = false;
  bool closing_ = false;
  bool tls_active_ = false;
  unsigned errors_ = 0;
  std::string helo_domain_;
  std::optional<std::string> user_;

  Envelope envelope_;
  std::optional<MailFrom> pending_mail_;
  std::optional<RcptTo> pending_rcpt_;

  std::optional<DataDecoder> decoder_;
  bool abort_reported_ = false;  // MessageAborted already emitted for this message
  bool chunk_pending_ = false;   // DataBegin for a first BDAT chunk awaits its answer
  std::uint64_t chunk_size_ = 0;
  std::uint64_t chunk_remaining_ = 0;
  bool chunk_last_ = false;
  Reply discard_reply_;
  bool discard_counts_ = false;
};

}  // namespace postamt::proto::smtp
