#pragma once
// The lexical rules of RFC 9051 §9 that every command parser shares: character classes,
// numbers, astring / atom / flag / list-mailbox values, and a cursor over a command's
// arguments. The tokenizer (tokenizer.hpp) only splits words; these functions decide
// whether a word is what the grammar asks for. Errors are reasons for "tag BAD <reason>".
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "proto/imap/sequence_set.hpp"
#include "proto/imap/tokenizer.hpp"

namespace postamt::proto::imap {

// ATOM-CHAR = <any CHAR except atom-specials>; atom-specials = "(" / ")" / "{" / SP /
// CTL / list-wildcards / quoted-specials / resp-specials.
bool is_atom_char(char c);
// ASTRING-CHAR = ATOM-CHAR / resp-specials.
bool is_astring_char(char c);
// list-char = ATOM-CHAR / list-wildcards / resp-specials.
bool is_list_char(char c);

bool is_atom(std::string_view text);

// What an error message shows of client text: at most `max` octets, anything outside
// printable US-ASCII as "?", "..." when cut.
std::string preview(std::string_view text, std::size_t max = 40);
// A value for an error message: atoms as they are, "quoted", "literal", "(...)".
std::string describe(const Value& value);
bool equals_ignoring_case(std::string_view a, std::string_view b);
bool starts_with_ignoring_case(std::string_view text, std::string_view prefix);
std::string to_upper(std::string_view text);

// Numbers (RFC 9051 §9, RFC 7162 §7). `what` names the number in the error message.
//   number  = 1*DIGIT, 0..4294967295         nz-number = digit-nz *DIGIT, 1..4294967295
//   number64 = 1*DIGIT, 0..9223372036854775807
//   mod-sequence-value = 1*DIGIT, 1..9223372036854775807 (mod-sequence-valzer allows 0)
std::expected<std::uint32_t, std::string> parse_number(std::string_view text,
                                                       std::string_view what);
std::expected<std::uint32_t, std::string> parse_nz_number(std::string_view text,
                                                          std::string_view what);
std::expected<std::uint64_t, std::string> parse_number64(std::string_view text,
                                                         std::string_view what);
std::expected<std::uint64_t, std::string> parse_mod_sequence_value(std::string_view text,
                                                                   std::string_view what);

// sequence-set, the error prefixed "Invalid sequence set: ". `allow_saved` admits "$".
std::expected<SequenceSet, std::string> parse_sequence_set(const Value& value,
                                                           bool allow_saved = true);

// Typed readers of one value. They move the text out of the value.
// astring = 1*ASTRING-CHAR / string (NIL counts as the atom "NIL"; no literal8).
std::expected<std::string, std::string> take_astring(Value& value, std::string_view what);
// mailbox = "INBOX" / astring; "INBOX" in any case becomes "INBOX" (RFC 9051 §5.1).
std::expected<std::string, std::string> take_mailbox(Value& value);
// list-mailbox = 1*list-char / string.
std::expected<std::string, std::string> take_list_mailbox(Value& value);
// string = quoted / literal.
std::expected<std::string, std::string> take_string(Value& value, std::string_view what);
// An atom, upper-cased (keywords, capability and mechanism names).
std::expected<std::string, std::string> take_upper_atom(Value& value, std::string_view what);
// flag = "\" atom / atom (system flags, flag-extension, flag-keyword), as sent.
std::expected<std::string, std::string> take_flag(Value& value);
// flag-list = "(" [flag *(SP flag)] ")".
std::expected<std::vector<std::string>, std::string> take_flag_list(Value& value);

// Whether the value is the atom `keyword` (case-insensitive).
bool is_keyword(const Value& value, std::string_view keyword);

// Walks the arguments of one command (or the items of one list) from left to right.
class ArgumentCursor {
 public:
  explicit ArgumentCursor(std::vector<Value>& values) : values_(values) {}

  bool at_end() const { return position_ >= values_.size(); }
  std::size_t remaining() const { return values_.size() - position_; }
  // The next value without taking it; null at the end.
  Value* peek() { return at_end() ? nullptr : &values_[position_]; }
  // The next value, or the error "Missing <what>".
  std::expected<Value*, std::string> next(std::string_view what);

  std::expected<std::string, std::string> astring(std::string_view what);
  std::expected<std::string, std::string> mailbox();
  std::expected<std::string, std::string> upper_atom(std::string_view what);
  std::expected<SequenceSet, std::string> sequence_set();
  // Takes the next value if it is the atom `keyword`.
  bool accept_keyword(std::string_view keyword);
  // Every value not taken yet, moved out; the cursor is then at the end.
  std::vector<Value> take_rest();
  // Error "Unexpected argument ..." unless every value was taken.
  std::expected<void, std::string> finish();

 private:
  std::vector<Value>& values_;
  std::size_t position_ = 0;
};

}  // namespace postamt::proto::imap
