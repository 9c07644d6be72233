#pragma once
// What the POP3 server engine reports to its driver (DESIGN "An engine's face"). Events
// are plain structs in one std::variant; next_event() hands them out in protocol order.
//
// Policy events (Login, AuthBegin, AuthResponse, Retrieve, StartTls, Update) need an
// answer from the driver; the engine processes nothing further until it gets it, so
// pipelined commands (RFC 2449 §6.6) are answered in order. The others are notices.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace postamt::proto::pop3 {

// USER then PASS (RFC 1939 §7). Answer: login_succeeded() or login_failed().
struct Login {
  std::string user;
  std::string password;
};

// AUTH <mechanism> [initial-response] (RFC 5034 §4). Drive the SASL mechanism, then
// answer with auth_challenge(), login_succeeded() or login_failed().
struct AuthBegin {
  std::string mechanism;  // upper-cased: PLAIN or LOGIN
  // As sent: base64, or "=" for an empty initial response (RFC 5034 §4); absent if none.
  std::optional<std::string> initial_response;
};

// The client's line after a "+ " challenge, as sent (base64).
struct AuthResponse {
  std::string response;
};

// The client cancelled the exchange with "*" (the engine answered -ERR); drop SASL state.
struct AuthCancelled {};

// RETR n or TOP n lines (RFC 1939 §7). Answer: begin_message(), message_data()...,
// end_message(); or retrieve_failed().
struct Retrieve {
  std::size_t index = 0;  // 0-based position in the maildrop (message number - 1)
  std::optional<std::uint64_t> top_lines;  // TOP: body lines wanted
};

// STLS was answered "+OK" (RFC 2595 §4). Run the handshake, then tls_started(); on
// failure just close the connection.
struct StartTls {};

// QUIT in the TRANSACTION state (RFC 1939 §6): remove these messages in one step, then
// update_done() or update_failed(). The session closes after the reply either way.
struct Update {
  std::vector<std::size_t> deleted;  // 0-based maildrop positions, ascending
};

// The session is over (QUIT answered, or the error budget spent); flush and close.
struct Quit {};

using Event = std::variant<Login, AuthBegin, AuthResponse, AuthCancelled, Retrieve, StartTls, Update, Quit>;

// One message of the maildrop snapshot taken at login (RFC 1939 §5).
struct MaildropEntry {
  std::uint64_t size = 0;  // octets RETR sends before byte-stuffing (RFC 1939 §11)
  std::string unique_id;   // UIDL (RFC 1939 §7): 1-70 characters 0x21-0x7E, never reused
};

}  // namespace postamt::proto::pop3
