#pragma once
// Splits one SMTP command line (without its CRLF) into verb and argument
// (RFC 5321 §4.1.1: verb, then SP, then the argument; verbs are case-insensitive).
#include <expected>
#include <string_view>

namespace postamt::proto::smtp {

struct CommandLine {
  std::string_view verb;      // as sent; compare case-insensitively
  std::string_view argument;  // after the separating space(s), trailing spaces removed
};

enum class CommandLineError {
  empty,              // nothing but spaces
  invalid_character,  // a control octet (CR, NUL, ...) or DEL: 500 5.5.2
  bad_verb,           // the verb is not 1..16 letters
};

// Octets >= 0x80 are allowed here (SMTPUTF8 addresses); the argument parsers decide.
std::expected<CommandLine, CommandLineError> split_command_line(std::string_view line);

}  // namespace postamt::proto::smtp
