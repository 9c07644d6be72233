#pragma once
// The server's command table: per command, the session states it is legal in and its
// flags, in the manner of Postfix's and Dovecot's command tables. The engine consults
// the table before any handler runs, so sequencing rules live in one place.
#include <cstdint>
#include <string_view>

namespace postamt::proto::smtp {

enum class Verb {
  helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, help, starttls, auth,
  not_implemented,  // recognised but not offered (EXPN, TURN, ...): 502 5.5.1
};

// Session states, as bits so a command can name several.
enum SessionState : unsigned {
  kStateGreeted = 1u << 0,  // greeting sent, no HELO/EHLO yet
  kStateReady = 1u << 1,    // HELO/EHLO done, no transaction
  kStateMail = 1u << 2,     // MAIL accepted, no recipient yet
  kStateRcpt = 1u << 3,     // at least one RCPT accepted
  kStateBdat = 1u << 4,     // inside a BDAT transaction (a non-LAST chunk was taken)
  kStateAny = kStateGreeted | kStateReady | kStateMail | kStateRcpt | kStateBdat,
};

enum CommandFlag : unsigned {
  kNeedsEhlo = 1u << 0,      // an extension's command: only after EHLO (RFC 5321 §4.1.1.1)
  kBeforeTls = 1u << 1,      // allowed while tls_required and TLS is not active (RFC 3207 §4)
  kNeedsAuth = 1u << 2,      // refused with 530 while auth_required and not authenticated
  kNoArgument = 1u << 3,     // takes no argument: 501 5.5.4 when given one
  kNeedsArgument = 1u << 4,  // takes an argument: 501 5.5.4 when missing
  kLongLine = 1u << 5,       // may use the extension allowances of the line limit
  kConsumesChunk = 1u << 6,  // BDAT: its chunk must be read even when refused (RFC 3030 §2)
};

struct CommandSpec {
  std::string_view name;
  Verb verb;
  unsigned states;  // SessionState bits in which the command is in sequence
  unsigned flags;   // CommandFlag bits
  std::string_view syntax;  // shown in 501 replies
};

// The entry for a verb (case-insensitive), or nullptr for an unknown one (500 5.5.2).
const CommandSpec* find_command(std::string_view verb);

}  // namespace postamt::proto::smtp
