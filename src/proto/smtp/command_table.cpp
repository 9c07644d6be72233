#include "proto/smtp/command_table.hpp"

#include <array>

namespace postamt::proto::smtp {
namespace {

constexpr unsigned kInTransaction = kStateMail | kStateRcpt;

// HELO/EHLO may come at any time and reset the transaction (RFC 5321 §4.1.4); RSET,
// NOOP, QUIT, HELP and VRFY are legal everywhere (§4.1.4 too).
constexpr std::array kCommands = {
    CommandSpec{"HELO", Verb::helo, kStateAny, kBeforeTls | kNeedsArgument, "HELO hostname"},
    CommandSpec{"EHLO", Verb::ehlo, kStateAny, kBeforeTls | kNeedsArgument, "EHLO hostname"},
    CommandSpec{"MAIL", Verb::mail, kStateReady, kNeedsAuth | kNeedsArgument | kLongLine,
                "MAIL FROM:<address> [parameters]"},
    CommandSpec{"RCPT", Verb::rcpt, kInTransaction, kNeedsArgument | kLongLine,
                "RCPT TO:<address> [parameters]"},
    CommandSpec{"DATA", Verb::data, kInTransaction, kNoArgument, "DATA"},
    CommandSpec{"BDAT", Verb::bdat, kInTransaction | kStateBdat,
                kNeedsEhlo | kNeedsArgument | kConsumesChunk, "BDAT chunk-size [LAST]"},
    CommandSpec{"RSET", Verb::rset, kStateAny, kBeforeTls | kNoArgument, "RSET"},
    CommandSpec{"NOOP", Verb::noop, kStateAny, kBeforeTls, "NOOP"},
    CommandSpec{"QUIT", Verb::quit, kStateAny, kBeforeTls | kNoArgument, "QUIT"},
    CommandSpec{"VRFY", Verb::vrfy, kStateAny, kNeedsArgument, "VRFY address"},
    CommandSpec{"HELP", Verb::help, kStateAny, kBeforeTls, "HELP"},
    CommandSpec{"STARTTLS", Verb::starttls, kStateReady, kNeedsEhlo | kBeforeTls | kNoArgument,
                "STARTTLS"},
    CommandSpec{"AUTH", Verb::auth, kStateReady, kNeedsEhlo | kNeedsArgument | kLongLine,
                "AUTH mechanism [initial-response]"},
    // Known verbs Postamt does not offer: EXPN would reveal list members, the rest are
    // obsolete or need a relationship (ETRN, ATRN) that does not exist here.
    CommandSpec{"EXPN", Verb::not_implemented, kStateAny, 0, "EXPN"},
    CommandSpec{"TURN", Verb::not_implemented, kStateAny, 0, "TURN"},
    CommandSpec{"ETRN", Verb::not_implemented, kStateAny, 0, "ETRN"},
    CommandSpec{"ATRN", Verb::not_implemented, kStateAny, 0, "ATRN"},
    CommandSpec{"SEND", Verb::not_implemented, kStateAny, 0, "SEND"},
    CommandSpec{"SOML", Verb::not_implemented, kStateAny, 0, "SOML"},
    CommandSpec{"SAML", Verb::not_implemented, kStateAny, 0, "SAML"},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

const CommandSpec* find_command(std::string_view verb) {
  for (const auto& spec : kCommands) {
    if (iequals(verb, spec.name)) return &spec;
  }
  return nullptr;
}

}  // namespace postamt::proto::smtp
