#pragma once
// The POP3 command table (RFC 1939 §§4-6, RFC 2449 §5, RFC 2595 §4, RFC 5034 §4): per
// command, the session states it is legal in and its flags. The engine consults the table
// before any handler runs, so sequencing rules live in one place.
#include <string_view>

namespace postamt::proto::pop3 {

enum class Verb { user, pass, auth, apop, capa, stls, quit, stat, list, retr, dele, noop, rset, top, uidl };

// Session states (RFC 1939 §3), as bits so a command can name several. The UPDATE state
// is entered by QUIT and accepts no command.
enum SessionState : unsigned {
  kStateAuthorization = 1u << 0,
  kStateTransaction = 1u << 1,
  kStateAny = kStateAuthorization | kStateTransaction,
};

enum CommandFlag : unsigned {
  kNoArgument = 1u << 0,     // takes no argument
  kNeedsArgument = 1u << 1,  // takes an argument
  kLongLine = 1u << 2,       // AUTH: the initial response may pass the 255-octet limit (RFC 5034 §4)
  kCredentials = 1u << 3,    // carries a password: only when authentication is allowed now
};

struct CommandSpec {
  std::string_view name;
  Verb verb;
  unsigned states;  // SessionState bits in which the command is legal
  unsigned flags;   // CommandFlag bits
};

// The entry for a verb (case-insensitive), or nullptr for an unknown one.
const CommandSpec* find_command(std::string_view verb);

}  // namespace postamt::proto::pop3
