#include "proto/smtp/command_parser.hpp"

namespace postamt::proto::smtp {

std::expected<CommandLine, CommandLineError> split_command_line(std::string_view line) {
  for (char c : line) {
    const auto octet = static_cast<unsigned char>(c);
    if ((octet < 0x20 && c != '\t') || octet == 0x7f) {
      return std::unexpected(CommandLineError::invalid_character);
    }
  }
  // Trailing white space is a common client sloppiness ("DATA ") and carries nothing.
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.empty()) return std::unexpected(CommandLineError::empty);
  const std::size_t space = line.find(' ');
  CommandLine out;
  out.verb = line.substr(0, space);
  if (out.verb.empty() || out.verb.size() > 16) return std::unexpected(CommandLineError::bad_verb);
  for (char c : out.verb) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return std::unexpected(CommandLineError::bad_verb);
    }
  }
  if (space != std::string_view::npos) {
    out.argument = line.substr(space + 1);
    while (!out.argument.empty() && out.argument.front() == ' ') out.argument.remove_prefix(1);
  }
  return out;
}

}  // namespace postamt::proto::smtp
