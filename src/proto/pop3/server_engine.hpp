#pragma once
// ServerEngine: the sans-I/O POP3 server (RFC 1939 with CAPA and RESP-CODES from RFC
// 2449, STLS from RFC 2595, AUTH from RFC 5034, response codes from RFC 3206). It never
// touches a socket, a clock or the disk: bytes go in with receive(), events come out of
// next_event(), response bytes leave through pending_output()/consume_output().
//
// Driving it:
//   engine.start();                             // queues "+OK <greeting>"
//   loop:
//     while (auto event = engine.next_event())  // in protocol order
//       handle(*event);                         // policy events get an answer
//     write(engine.pending_output()); engine.consume_output(written);
//     if (engine.wants_close()) break;
//     engine.receive(read_some());
//
// The engine owns the maildrop listing the driver hands it at login (sizes and unique
// ids) and the deletion marks, so STAT, LIST, UIDL, DELE, RSET and NOOP are answered
// without the driver. RETR and TOP ask the driver for the bytes, which it feeds in pieces
// through message_data(); the engine byte-stuffs them (DotStuffer).
//
// Bounds: command lines are limited to 255 octets with CRLF (RFC 2449 §4), SASL lines to
// ServerOptions::max_sasl_line, and an over-long line is never buffered (LineBuffer).
// Every response line the engine builds itself stays under 512 octets (RFC 2449 §4), and
// no new command is taken while ServerOptions::max_output_backlog octets wait to be sent.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/line_buffer.hpp"
#include "proto/pop3/command_table.hpp"
#include "proto/pop3/dot_stuffer.hpp"
#include "proto/pop3/events.hpp"
#include "proto/pop3/server_options.hpp"

namespace postamt::proto::pop3 {

// RFC 2449 §4: a command line is at most 255 octets including the CRLF.
constexpr std::size_t kMaxCommandLine = 255;

class ServerEngine {
 public:
  enum class State : std::uint8_t { authorization, transaction, update, closed };
  // The answer the engine waits for, if any.
  enum class Awaiting : std::uint8_t {
    nothing,
    login,     // Login, AuthBegin, AuthResponse: login_* / auth_challenge
    retrieve,  // Retrieve: begin_message ... end_message, or retrieve_failed
    message,   // between begin_message() and end_message()
    tls,       // StartTls: tls_started()
    update,    // Update: update_done() / update_failed()
  };

  explicit ServerEngine(ServerOptions options);

  void start();  // queues the greeting

  // Any bytes, split anywhere. Ignored once the session is closing.
  void receive(std::string_view bytes);

  // The next event, or nullopt: more bytes needed, an answer pending, or closed.
  std::optional<Event> next_event();

  // --- answers to policy events
  // The maildrop snapshot for the user who just logged in (RFC 1939 §5): the session
  // enters the TRANSACTION state with these messages, numbered from 1.
  void login_succeeded(std::vector<MaildropEntry> maildrop);
  // `text` follows "-ERR ", e.g. "[AUTH] Authentication failed" or "[IN-USE] ...".
  void login_failed(std::string_view text);
  void auth_challenge(std::string_view base64);  // "+ <base64>"; an AuthResponse follows
  void begin_message();                          // "+OK <size> octets"
  void message_data(std::string_view bytes);     // the stored bytes, in order, any split
  void end_message();                            // the terminating ".\r\n"
  bool message_complete() const;                 // TOP needs no more bytes
  void retrieve_failed(std::string_view text);   // before begin_message() only
  // The handshake after StartTls completed: input sent before it is discarded (RFC 2595
  // §4) and STLS is no longer offered. `auth_allowed`: may USER/PASS/AUTH be used now.
  void tls_started(bool auth_allowed);
  void update_done();
  void update_failed(std::string_view text);
  // Ends the session from the driver's side (idle timeout, shutdown): queues
  // "-ERR <text>", drops pending input and events, and closes.
  void shutdown(std::string_view text);

  // --- output
  std::string_view pending_output() const;
  void consume_output(std::size_t n);
  // More than ServerOptions::max_output_backlog is waiting: next_event() takes no further
  // command until the driver has written it (back-pressure for pipelined commands).
  bool output_backlogged() const { return pending_output().size() >= options_.max_output_backlog; }
  // Input holds part of a line (the driver's slow-client clock runs; net::Connection).
  bool partial_input() const { return input_.buffered() > 0; }
  // True once the session ended and every event was handed out: flush, then close.
  bool wants_close() const;

  // --- state for the driver
  State state() const { return state_; }
  Awaiting awaiting() const { return awaiting_; }
  bool tls_active() const { return options_.tls_active; }
  unsigned errors() const { return errors_; }
  std::size_t buffered_input() const { return input_.buffered(); }
  const std::vector<MaildropEntry>& maildrop() const { return maildrop_; }
  bool marked_deleted(std::size_t index) const { return deleted_.at(index); }

 private:
  void on_command_line(std::string_view line);
  void on_sasl_line(std::string_view line);
  std::optional<std::size_t> message_index(std::string_view argument);

  void cmd_user(std::string_view argument);
  void cmd_pass(std::string_view argument);
  void cmd_auth(std::string_view argument);
  void cmd_capa();
  void cmd_stls();
  void cmd_quit();
  void cmd_stat();
  void cmd_list(std::string_view argument, bool unique_ids);
  void cmd_retr(std::string_view argument);
  void cmd_top(std::string_view argument);
  void cmd_dele(std::string_view argument);
  void cmd_rset();

  void ok(std::string_view text);
  void err(std::string_view text);
  void protocol_error(std::string_view text);  // -ERR that counts against the budget
  void close_session();
  std::uint64_t live_octets() const;
  std::size_t live_count() const;

  ServerOptions options_;
  LineBuffer input_;
  std::deque<Event> events_;
  std::string output_;
  std::size_t output_start_ = 0;

  State state_ = State::authorization;
  Awaiting awaiting_ = Awaiting::nothing;
  bool sasl_mode_ = false;  // lines are SASL responses (after "+ ")
  bool started_ = false;
  bool closing_ = false;
  unsigned errors_ = 0;
  std::optional<std::string> user_;  // USER accepted, PASS expected next (RFC 1939 §7)

  std::vector<MaildropEntry> maildrop_;
  std::vector<bool> deleted_;
  std::optional<DotStuffer> stuffer_;
  std::size_t retrieving_ = 0;
};

}  // namespace postamt::proto::pop3
