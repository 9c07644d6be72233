// Commands of the selected state (RFC 9051 §6.4): FETCH, STORE, COPY, MOVE, SEARCH and
// their UID forms, UID EXPUNGE; with the CONDSTORE/QRESYNC modifiers of RFC 7162.
#include <string_view>
#include <utility>

#include "proto/imap/command_parsers.hpp"
#include "proto/imap/fetch_attribute_parser.hpp"
#include "proto/imap/search_key_parser.hpp"

namespace postamt::proto::imap::command_parsers {
namespace {

// fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")" (RFC 4466 §2.4);
// fetch-modifier =/ "CHANGEDSINCE" SP mod-sequence-value / "VANISHED" (RFC 7162 §7)
//                  / "PARTIAL" SP partial-range (RFC 9394 §3.2).
std::expected<void, std::string> fetch_modifiers(const Value& value, FetchCommand& fetch) {
  if (value.kind != Value::Kind::list || value.items.empty()) {
    return std::unexpected("FETCH: invalid modifier list");
  }
  for (std::size_t i = 0; i < value.items.size(); ++i) {
    const Value& modifier = value.items[i];
    if (is_keyword(modifier, "CHANGEDSINCE")) {
      if (++i >= value.items.size() || value.items[i].kind != Value::Kind::atom) {
        return std::unexpected("FETCH: CHANGEDSINCE needs a mod-sequence");
      }
      auto modseq = parse_mod_sequence_value(value.items[i].text, "CHANGEDSINCE value");
      if (!modseq) return std::unexpected(std::move(modseq.error()));
      fetch.changed_since = *modseq;
    } else if (is_keyword(modifier, "VANISHED")) {
      fetch.vanished = true;
    } else if (is_keyword(modifier, "PARTIAL")) {  // RFC 9394 §3.2
      if (++i >= value.items.size() || value.items[i].kind != Value::Kind::atom) {
        return std::unexpected("FETCH: PARTIAL needs a range such as 1:100 or -1:-100");
      }
      auto range = parse_partial_range(value.items[i].text);
      if (!range) return std::unexpected(std::move(range.error()));
      fetch.partial = *range;
    } else {
      return std::unexpected("FETCH: unknown modifier " + describe(modifier));
    }
  }
  // RFC 7162 §3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE.
  if (fetch.vanished && !fetch.uid) return std::unexpected("FETCH: VANISHED needs UID FETCH");
  if (fetch.vanished && !fetch.changed_since) {
    return std::unexpected("FETCH: VANISHED needs CHANGEDSINCE");
  }
  return {};
}

// store-modifiers = SP "(" store-modifier *(SP store-modifier) ")";
// store-modifier =/ "UNCHANGEDSINCE" SP mod-sequence-valzer (RFC 7162 §7).
std::expected<void, std::string> store_modifiers(const Value& value, StoreCommand& store) {
  if (value.items.empty()) return std::unexpected("STORE: empty modifier list");
  for (std::size_t i = 0; i < value.items.size(); ++i) {
    const Value& modifier = value.items[i];
    if (!is_keyword(modifier, "UNCHANGEDSINCE")) {
      return std::unexpected("STORE: unknown modifier " + describe(modifier));
    }
    if (++i >= value.items.size() || value.items[i].kind != Value::Kind::atom) {
      return std::unexpected("STORE: UNCHANGEDSINCE needs a mod-sequence");
    }
    auto modseq = parse_number64(value.items[i].text, "UNCHANGEDSINCE value");
    if (!modseq) return std::unexpected(std::move(modseq.error()));
    store.unchanged_since = *modseq;
  }
  return {};
}

// store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP ...
bool store_action(std::string_view text, StoreCommand& store) {
  if (text.starts_with('+')) {
    store.mode = FlagMode::add;
    text.remove_prefix(1);
  } else if (text.starts_with('-')) {
    store.mode = FlagMode::remove;
    text.remove_prefix(1);
  }
  if (equals_ignoring_case(text, "FLAGS.SILENT")) {
    store.silent = true;
    return true;
  }
  return equals_ignoring_case(text, "FLAGS");
}

}  // namespace

// fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
//         "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
Result fetch(ArgumentCursor& arguments, bool uid) {
  FetchCommand command;
  command.uid = uid;
  auto set = arguments.sequence_set();
  if (!set) return std::unexpected(std::move(set.error()));
  command.set = std::move(*set);
  auto items = arguments.next("fetch attributes");
  if (!items) return std::unexpected(std::move(items.error()));
  auto attributes = parse_fetch_attributes(**items);
  if (!attributes) return std::unexpected(std::move(attributes.error()));
  command.attributes = std::move(*attributes);
  if (Value* modifiers = arguments.peek()) {
    if (auto ok = fetch_modifiers(*modifiers, command); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
    (void)arguments.next("modifiers");
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
// store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
Result store(ArgumentCursor& arguments, bool uid) {
  StoreCommand command;
  command.uid = uid;
  auto set = arguments.sequence_set();
  if (!set) return std::unexpected(std::move(set.error()));
  command.set = std::move(*set);
  if (Value* modifiers = arguments.peek(); modifiers && modifiers->kind == Value::Kind::list) {
    if (auto ok = store_modifiers(*modifiers, command); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
    (void)arguments.next("modifiers");
  }
  auto action = arguments.next("STORE data item");
  if (!action) return std::unexpected(std::move(action.error()));
  if ((*action)->kind != Value::Kind::atom || !store_action((*action)->text, command)) {
    return std::unexpected("STORE: unknown data item " + describe(**action));
  }
  Value* first = arguments.peek();
  if (!first) return std::unexpected("STORE: missing flags");
  if (first->kind == Value::Kind::list) {
    auto flags = take_flag_list(*first);
    if (!flags) return std::unexpected(std::move(flags.error()));
    command.flags = std::move(*flags);
    (void)arguments.next("flags");
  } else {
    while (Value* flag_value = arguments.peek()) {
      auto flag = take_flag(*flag_value);
      if (!flag) return std::unexpected(std::move(flag.error()));
      command.flags.push_back(std::move(*flag));
      (void)arguments.next("flag");
    }
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// copy = "COPY" SP sequence-set SP mailbox; move = "MOVE" SP sequence-set SP mailbox
// (RFC 6851 §3).
Result copy(ArgumentCursor& arguments, bool uid, bool move) {
  CopyCommand command;
  command.uid = uid;
  command.move = move;
  auto set = arguments.sequence_set();
  if (!set) return std::unexpected(std::move(set.error()));
  command.set = std::move(*set);
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  command.mailbox = std::move(*mailbox);
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// search = "SEARCH" [search-return-opts] SP search-program (RFC 4731 §7, RFC 9051 §9)
// search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
Result search(ArgumentCursor& arguments, bool uid) {
  SearchCommand command;
  command.uid = uid;
  if (arguments.accept_keyword("RETURN")) {
    auto options = arguments.next("RETURN options");
    if (!options) return std::unexpected(std::move(options.error()));
    auto parsed = parse_search_return(**options);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    command.return_options = *parsed;
  }
  if (arguments.accept_keyword("CHARSET")) {
    auto charset = arguments.next("charset");
    if (!charset) return std::unexpected(std::move(charset.error()));
    // charset = atom / quoted
    if (!((*charset)->kind == Value::Kind::atom && is_atom((*charset)->text)) &&
        (*charset)->kind != Value::Kind::quoted) {
      return std::unexpected("SEARCH: invalid charset");
    }
    command.charset = to_upper((*charset)->text);
  }
  std::vector<Value> keys = arguments.take_rest();
  auto key = parse_search_keys(keys);
  if (!key) return std::unexpected(std::move(key.error()));
  command.key = std::move(*key);
  return command;
}

// uid-expunge = "EXPUNGE" SP sequence-set (RFC 4315 §3, RFC 9051 §9)
Result uid_expunge(ArgumentCursor& arguments) {
  auto set = arguments.sequence_set();
  if (!set) return std::unexpected(std::move(set.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return UidExpungeCommand{std::move(*set)};
}

Result uid(ArgumentCursor& arguments) {
  auto name = arguments.next("UID command");
  if (!name) return std::unexpected(std::move(name.error()));
  if ((*name)->kind != Value::Kind::atom) return std::unexpected("UID: command name expected");
  const std::string command = to_upper((*name)->text);
  if (command == "FETCH") return fetch(arguments, true);
  if (command == "STORE") return store(arguments, true);
  if (command == "COPY") return copy(arguments, true, false);
  if (command == "MOVE") return copy(arguments, true, true);
  if (command == "SEARCH") return search(arguments, true);
  if (command == "SORT") return sort(arguments, true);          // RFC 5256 §3
  if (command == "THREAD") return thread(arguments, true);
  if (command == "EXPUNGE") return uid_expunge(arguments);
  return std::unexpected("UID: unknown command " + describe(**name));
}

}  // namespace postamt::proto::imap::command_parsers
