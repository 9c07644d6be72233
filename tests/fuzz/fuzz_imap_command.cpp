// Fuzzes IMAP command framing and tokenizing: arbitrary bytes arrive in arbitrary pieces
// through the CommandReader, every continuation request is answered (continue or reject)
// by bits taken from the input, and every framed command goes through the tokenizer and,
// for each atom argument, the sequence-set parser. Checks what the driver relies on:
//   * no crash, UB or leak (ASan/UBSan), whatever the peer sends;
//   * buffered input stays within the line limit plus one piece, and a command in memory
//     within its size limit;
//   * every literal delivered holds exactly the octets announced (the line piece before it
//     ended in the marker the reader reported);
//   * NeedContinuation only for announced sizes within the limit; nothing after a fatal error;
//   * a parsed sequence set resolves to ranges within 1..max, as many as it has elements;
//   * every tokenized command (and the same arguments under another command name) goes
//     through parse_command(): errors are short and printable, results keep their
//     invariants (search trees within kMaxSearchDepth, VANISHED only with UID and
//     CHANGEDSINCE, non-zero partial lengths, MIME only after a part, mailbox names that
//     decode from modified UTF-7 encode back to themselves, date-times that format back);
//   * the state-dependent limits (a small pre-login limit, then the configured one from a
//     point the input picks, as the session does at login) are those in force;
//   * a spilled APPEND literal (spill_threshold) arrives as LiteralBytes adding up to
//     exactly the announced size, and only APPEND literals spill;
//   * an APPEND built around input bytes as its literal hands exactly those bytes over;
//   * SEARCH programs built from input bytes as NOT / OR / "(" chains stay bounded.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/imap/command_reader.hpp"
#include "proto/imap/commands.hpp"
#include "proto/imap/imap_date.hpp"
#include "proto/imap/list_pattern.hpp"
#include "proto/imap/mailbox_name.hpp"
#include "proto/imap/search_key_parser.hpp"
#include "proto/imap/sequence_set.hpp"
#include "proto/imap/tokenizer.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::imap;

using postamt::fuzz::Bits;
using postamt::fuzz::fail;

void check_sequence_sets(const Value& value, unsigned max) {
  if (value.kind == Value::Kind::list) {
    for (const Value& item : value.items) check_sequence_sets(item, max);
    return;
  }
  if (value.kind != Value::Kind::atom) return;
  auto set = SequenceSet::parse(value.text);
  if (!set) return;
  const auto ranges = set->resolve(max);
  if (ranges.size() > set->ranges().size()) fail();
  for (const auto& r : ranges) {
    if (r.low < 1 || r.low > r.high || r.high > max) fail();
    if (!set->contains(r.low, max) || !set->contains(r.high, max)) fail();
  }
}

// Names parse_command() knows, for trying one command's arguments under another name.
constexpr const char* kCommandNames[] = {
    "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "IDLE", "CLOSE", "UNSELECT", "CHECK",
    "NAMESPACE", "EXPUNGE", "LOGIN", "AUTHENTICATE", "ENABLE", "ID", "COMPRESS", "SELECT",
    "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB",
    "STATUS", "APPEND", "FETCH", "STORE", "COPY", "MOVE", "SEARCH", "UID", "GETQUOTA",
    "GETQUOTAROOT", "SETQUOTA", "SORT", "THREAD"};

// The depth of a search tree, failing (instead of recursing on) past the bound.
std::size_t search_depth(const SearchKey& key, std::size_t depth) {
  if (depth > kMaxSearchDepth + 2) fail();
  std::size_t deepest = depth;
  for (const SearchKey& child : key.children) {
    deepest = std::max(deepest, search_depth(child, depth + 1));
  }
  return deepest;
}

void check_mailbox_name(const std::string& name) {
  if (auto decoded = decode_modified_utf7(name)) {
    if (!is_valid_utf8(*decoded)) fail();
    auto encoded = encode_modified_utf7(*decoded);  // strict decoding means canonical input
    if (!encoded || *encoded != name) fail();
  }
  if (is_valid_utf8(name) && name.find('\0') == std::string::npos) {
    auto encoded = encode_modified_utf7(name);
    if (!encoded) fail();
    auto decoded = decode_modified_utf7(*encoded);
    if (!decoded || *decoded != name) fail();
    if (needs_modified_utf7(name) != (*encoded != name)) fail();
  }
}

void check_section(const Section& section) {
  if (section.text == Section::Text::mime && section.part.empty()) fail();
  for (std::uint32_t part : section.part) {
    if (part == 0) fail();
  }
  const bool fields = section.text == Section::Text::header_fields ||
                      section.text == Section::Text::header_fields_not;
  if (fields == section.fields.empty()) fail();
}

void check_typed(const TypedCommand& typed) {
  if (auto* search = std::get_if<SearchCommand>(&typed.command)) {
    if (search->key.kind != SearchKey::Kind::and_ || search->key.children.empty()) fail();
    search_depth(search->key, 0);
  } else if (auto* fetch = std::get_if<FetchCommand>(&typed.command)) {
    if (fetch->attributes.empty()) fail();
    if (fetch->vanished && (!fetch->uid || !fetch->changed_since)) fail();
    for (const FetchAttribute& attribute : fetch->attributes) {
      if (attribute.partial && attribute.partial->length == 0) fail();
      check_section(attribute.section);
    }
  } else if (auto* select = std::get_if<SelectCommand>(&typed.command)) {
    check_mailbox_name(select->mailbox);
    if (select->qresync && (select->qresync->uidvalidity == 0 || select->qresync->modseq == 0)) {
      fail();
    }
  } else if (auto* append = std::get_if<AppendCommand>(&typed.command)) {
    check_mailbox_name(append->mailbox);
    if (append->internal_date) {
      const UnixSeconds t = *append->internal_date;
      if (t >= -62167219200 && t <= 253402300799 && parse_date_time(format_date_time(t)) != t) {
        fail();
      }
    }
  } else if (auto* list = std::get_if<ListCommand>(&typed.command)) {
    if (list->patterns.empty()) fail();
    if (list->select_recursive_match && !list->select_subscribed && !list->select_special_use) {
      fail();
    }
    for (const std::string& pattern : list->patterns) {
      const ListPattern matcher(list->reference, pattern);
      (void)matcher.matches(list->reference);
      (void)matcher.matches(pattern);
      if (matcher.matches(list->reference + "/x") && !matcher.could_match_below(list->reference)) {
        fail();
      }
      const std::string& combined = matcher.pattern();
      if (combined.find_first_of("*%") == std::string::npos &&
          !ListPattern(combined).matches(combined)) {
        fail();
      }
      if (!ListPattern("*").matches(combined)) fail();
    }
  } else if (auto* create = std::get_if<CreateCommand>(&typed.command)) {
    check_mailbox_name(create->mailbox);
  }
}

void check_parse(ParsedCommand command) {
  const std::string tag = command.tag;
  auto typed = parse_command(std::move(command));
  if (typed) {
    if (typed->tag != tag) fail();
    check_typed(*typed);
    return;
  }
  if (typed.error().tag != tag) fail();
  const std::string& message = typed.error().message;
  if (message.empty() || message.size() > 300) fail();
  for (char c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) fail();
  }
}

// An APPEND around `data` as its literal (plain, literal8 or inside UTF8 (...)).
void check_append_literal(std::string_view data, unsigned form) {
  Command command;
  command.lines = {form == 2 ? "t APPEND INBOX UTF8 (" : "t APPEND INBOX (\\Seen) ",
                   form == 2 ? ")" : ""};
  command.literals.push_back(Literal{std::string(data), form != 0, true});
  auto tokens = tokenize(std::move(command));
  const bool has_nul = data.find('\0') != std::string_view::npos;
  if (!tokens) {
    if (form == 0 && has_nul) return;  // NUL only in literal8
    fail();
  }
  auto typed = parse_command(std::move(*tokens));
  if (!typed) fail();
  auto* append = std::get_if<AppendCommand>(&typed->command);
  if (!append || append->message != data || append->binary != (form != 0) ||
      append->utf8 != (form == 2) || append->mailbox != "INBOX") {
    fail();
  }
}

// "t SEARCH " and a program of structure words chosen by the input bytes.
void check_search_program(std::string_view data) {
  static constexpr const char* kWords[] = {"NOT ", "OR ",     "(",         ")",
                                           "SEEN ", "1:* ",   "UID $ ",    "NOT NOT ",
                                           "OR OR ", "((",    "ALL ",      "FROM x "};
  std::string line = "t SEARCH ";
  for (char c : data.substr(0, 4000)) {
    line += kWords[static_cast<unsigned char>(c) % std::size(kWords)];
  }
  Command command;
  command.lines.push_back(std::move(line));
  auto tokens = tokenize(command);
  if (tokens) check_parse(std::move(*tokens));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ReaderLimits limits;
  const unsigned flags = data[0];
  limits.max_line_length = 16 + data[1] * 4u;
  limits.max_literal_size = (flags & 1) ? 64 : 4096;
  limits.max_literals = 1 + (flags >> 1) % 8;
  limits.max_command_size = (flags & 16) ? 256 : 1u << 20;
  limits.literal_minus = flags & 32;
  TokenizerLimits tokenizer_limits;
  tokenizer_limits.max_depth = 1 + (flags >> 6) * 8;
  Bits bits(data, size);
  limits.spill_threshold = bits.take(2) ? 0 : 1 + bits.take(64);
  // Before login the session allows only small literals and commands; the switch to the
  // configured limits comes at a piece the input picks (never back: login is for good).
  ReaderLimits before_login = limits;
  before_login.max_literal_size = std::min<std::uint64_t>(limits.max_literal_size, 1 + bits.take(32));
  before_login.max_command_size = std::min<std::uint64_t>(limits.max_command_size, 64 + bits.take(256));
  before_login.spill_threshold = 0;
  unsigned pieces_before_login = bits.take(8);

  CommandReader reader(pieces_before_login > 0 ? before_login : limits);
  std::uint64_t spilled = 0;  // LiteralBytes octets of the current command
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  bool closed = false;
  std::vector<std::uint64_t> announced;  // sync literal sizes of the current command

  auto drain = [&] {
    while (auto event = reader.next_event()) {
      if (closed) fail();
      if (auto* command = std::get_if<Command>(&*event)) {
        if (command->lines.size() != command->literals.size() + 1) fail();
        if (command->literals.size() > limits.max_literals) fail();
        std::uint64_t total = 0;
        for (const auto& line : command->lines) total += line.size() + 2;
        std::uint64_t spilled_announced = 0;
        for (const auto& literal : command->literals) {
          if (literal.data.size() > limits.max_literal_size) fail();
          if (literal.spilled) {
            if (!literal.data.empty() || limits.spill_threshold == 0) fail();
            if (literal.size < limits.spill_threshold || literal.size > limits.max_literal_size) fail();
            const std::string& first = command->lines.front();
            const auto space = first.find(' ');
            if (space == std::string::npos || first.size() < space + 7) fail();
            for (std::size_t i = 0; i < 6; ++i) {
              if (std::toupper(static_cast<unsigned char>(first[space + 1 + i])) != "APPEND"[i]) fail();
            }
            spilled_announced += literal.size;
          } else if (literal.size != literal.data.size()) {
            fail();
          }
          total += literal.data.size();
        }
        if (spilled_announced != spilled) fail();
        spilled = 0;
        if (total > limits.max_command_size + 16 * command->literals.size()) fail();
        std::size_t next = 0;
        for (const auto& literal : command->literals) {
          if (!literal.synchronizing) continue;
          if (next >= announced.size() || literal.size != announced[next++]) fail();
        }
        if (next != announced.size()) fail();
        announced.clear();
        auto parsed = bits.take(2) ? tokenize(*command, tokenizer_limits)
                                   : tokenize(Command(*command), tokenizer_limits);
        if (parsed) {
          if (!is_valid_tag(parsed->tag)) fail();
          for (const Value& value : parsed->arguments) check_sequence_sets(value, bits.take(64));
          if (bits.take(4) == 0) {  // the same arguments under another command's name
            ParsedCommand renamed = *parsed;
            renamed.name = kCommandNames[bits.take(std::size(kCommandNames))];
            check_parse(std::move(renamed));
          }
          check_parse(std::move(*parsed));
        }
      } else if (auto* need = std::get_if<NeedContinuation>(&*event)) {
        if (!reader.awaiting_continuation()) fail();
        if (need->size > limits.max_literal_size) fail();
        if (bits.take(4) == 0) {
          reader.reject_literal();
          // The reader drops the whole command, including the LiteralBytes it already
          // handed out for an earlier, spilled literal of it (`a APPEND x {300+}` ...
          // `~{9}` refused): those octets belong to no Command, so forget them too, as
          // on a ReaderError. (Not a reader bug: the driver chose to drop the command.)
          announced.clear();
          spilled = 0;
        } else {
          reader.continue_literal();
          announced.push_back(need->size);
        }
      } else if (auto* bytes = std::get_if<LiteralBytes>(&*event)) {
        if (bytes->data.empty() || limits.spill_threshold == 0) fail();
        spilled += bytes->data.size();
        if (spilled > limits.max_literal_size) fail();
      } else {
        const auto& error = std::get<ReaderError>(*event);
        if (error.reason().empty()) fail();
        announced.clear();
        spilled = 0;
        if (error.fatal) {
          if (!reader.closed()) fail();
          closed = true;
        }
      }
    }
  };

  const std::string_view payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (flags & 128) {
    check_append_literal(payload.substr(0, 512), bits.take(3));
    check_search_program(payload);
  }

  while (!rest.empty() && !closed) {
    const unsigned control = static_cast<unsigned char>(rest.front());
    rest.remove_prefix(1);
    const std::size_t piece = std::min<std::size_t>(rest.size(), 1 + control % 200);
    reader.receive(rest.substr(0, piece));
    rest.remove_prefix(piece);
    drain();
    if (pieces_before_login > 0 && --pieces_before_login == 0) reader.set_limits(limits);
    if (reader.buffered_input() > limits.max_line_length + piece) fail();
    if (reader.command_bytes() > limits.max_command_size) fail();
  }
  return 0;
}
