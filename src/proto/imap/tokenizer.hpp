#pragma once
// Tokenizer: turns a framed Command (CommandReader) into tag, command name and typed
// arguments (RFC 9051 §9 formal syntax, lexical level only; the grammar of each command
// is checked later by its own parser).
//
//   command  = tag SP name *(SP value)
//   value    = atom / quoted / literal / literal8 / NIL / "(" [value *(SP value)] ")"
//
// An atom here is a bare word: any run of CHAR8 except SP, CTL, "(", ")", "{", DQUOTE,
// and "[...]" inside it is taken verbatim up to "]" (so "BODY[HEADER.FIELDS (A B)]<0.10>"
// is one word, as fetch-att needs). Whether a word is a valid atom, sequence-set, flag or
// list-mailbox is the command parser's business. Errors are reasons for "tag BAD <reason>".
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "proto/imap/command_reader.hpp"

namespace postamt::proto::imap {

struct Value {
  enum class Kind { atom, quoted, literal, nil, list };
  Kind kind = Kind::atom;
  std::string text;           // atom/quoted (unescaped)/literal payload; "NIL" for nil
  bool binary = false;        // literal8 (RFC 3516)
  std::vector<Value> items;   // list elements

  bool is_string() const { return kind == Kind::quoted || kind == Kind::literal; }
  // astring = 1*ASTRING-CHAR / string: atoms (and NIL) count as strings too.
  bool is_astring() const { return kind != Kind::list; }
};

struct ParsedCommand {
  std::string tag;
  std::string name;  // upper-cased (command names are case-insensitive, RFC 9051 §9 note)
  std::vector<Value> arguments;
};

struct TokenizerLimits {
  std::size_t max_depth = 32;        // nested parentheses
  std::size_t max_values = 100000;   // values of all levels in one command
};

// RFC 9051 §9: tag = 1*<any ASTRING-CHAR except "+">.
bool is_valid_tag(std::string_view tag);

std::expected<ParsedCommand, std::string> tokenize(const Command& command,
                                                   TokenizerLimits limits = {});
// The same, moving literal payloads (an APPEND's message) into the values instead of
// copying them; `command` is left with emptied literals.
std::expected<ParsedCommand, std::string> tokenize(Command&& command,
                                                   TokenizerLimits limits = {});

}  // namespace postamt::proto::imap
