#pragma once
// Test helpers: an IMAP command as the wire carries it (CRLF, literals) through the
// CommandReader, the tokenizer and parse_command().
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "proto/imap/command_reader.hpp"
#include "proto/imap/commands.hpp"
#include "proto/imap/tokenizer.hpp"

namespace postamt::proto::imap::test {

// The typed command or the error message ("tokenizer: ..." for tokenizer errors).
inline std::expected<TypedCommand, std::string> parse_wire(std::string wire) {
  if (!wire.ends_with("\r\n")) wire += "\r\n";
  CommandReader reader;
  reader.receive(wire);
  while (auto event = reader.next_event()) {
    if (std::holds_alternative<NeedContinuation>(*event)) {
      reader.continue_literal();
      continue;
    }
    if (auto* command = std::get_if<Command>(&*event)) {
      auto tokens = tokenize(std::move(*command));
      if (!tokens) return std::unexpected("tokenizer: " + tokens.error());
      auto typed = parse_command(std::move(*tokens));
      if (!typed) return std::unexpected(typed.error().message);
      return std::move(*typed);
    }
    return std::unexpected("reader error");
  }
  return std::unexpected("incomplete");
}

// The command of type T (a test failure and T{} otherwise).
template <typename T>
T parse_as(const std::string& wire) {
  auto result = parse_wire(wire);
  if (!result) {
    ADD_FAILURE() << wire << " -> " << result.error();
    return T{};
  }
  if (auto* command = std::get_if<T>(&result->command)) return std::move(*command);
  ADD_FAILURE() << wire << " -> another command type (index " << result->command.index() << ")";
  return T{};
}

// The error message ("" if the command parsed).
inline std::string error_of(const std::string& wire) {
  auto result = parse_wire(wire);
  return result ? std::string() : result.error();
}

}  // namespace postamt::proto::imap::test
