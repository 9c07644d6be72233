#include "proto/pop3/command_table.hpp"

#include <array>

namespace postamt::proto::pop3 {
namespace {

constexpr std::array kCommands{
    // AUTHORIZATION state (RFC 1939 §4, §7; RFC 5034 §4; RFC 2595 §4)
    CommandSpec{"USER", Verb::user, kStateAuthorization, kNeedsArgument | kCredentials},
    CommandSpec{"PASS", Verb::pass, kStateAuthorization, kCredentials},
    CommandSpec{"AUTH", Verb::auth, kStateAuthorization, kLongLine},
    CommandSpec{"APOP", Verb::apop, kStateAuthorization, kNeedsArgument},
    CommandSpec{"STLS", Verb::stls, kStateAuthorization, kNoArgument},
    // Any state (RFC 1939 §5, §6; RFC 2449 §5)
    CommandSpec{"CAPA", Verb::capa, kStateAny, kNoArgument},
    CommandSpec{"QUIT", Verb::quit, kStateAny, kNoArgument},
    // RFC 1939 §5 defines NOOP for TRANSACTION; answering it before login too is
    // harmless and what keep-alive probes and the listener tests expect.
    CommandSpec{"NOOP", Verb::noop, kStateAny, kNoArgument},
    // TRANSACTION state (RFC 1939 §5, §7)
    CommandSpec{"STAT", Verb::stat, kStateTransaction, kNoArgument},
    CommandSpec{"LIST", Verb::list, kStateTransaction, 0},
    CommandSpec{"RETR", Verb::retr, kStateTransaction, kNeedsArgument},
    CommandSpec{"DELE", Verb::dele, kStateTransaction, kNeedsArgument},
    CommandSpec{"RSET", Verb::rset, kStateTransaction, kNoArgument},
    CommandSpec{"TOP", Verb::top, kStateTransaction, kNeedsArgument},
    CommandSpec{"UIDL", Verb::uidl, kStateTransaction, 0},
};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
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
    if (equal_ignoring_case(verb, spec.name)) return &spec;
  }
  return nullptr;
}

}  // namespace postamt::proto::pop3
