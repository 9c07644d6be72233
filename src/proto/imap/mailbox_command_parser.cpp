// Commands on mailboxes (RFC 9051 §6.3): SELECT / EXAMINE with CONDSTORE and QRESYNC
// parameters, CREATE with USE, DELETE, RENAME, (UN)SUBSCRIBE, LIST (LIST-EXTENDED,
// LIST-STATUS, SPECIAL-USE), LSUB, STATUS, APPEND (BINARY, UTF8).
#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "proto/imap/command_parsers.hpp"
#include "proto/imap/imap_date.hpp"

namespace postamt::proto::imap::command_parsers {
namespace {

// A sequence set of known-uids / known-sequence-set: "*" and "$" are not allowed
// (RFC 7162 §7).
std::expected<SequenceSet, std::string> known_set(const Value& value) {
  auto set = parse_sequence_set(value, false);
  if (!set) return set;
  for (const SequenceSet::Range& range : set->ranges()) {
    if (range.first == SequenceSet::kStar || range.last == SequenceSet::kStar) {
      return std::unexpected("Invalid sequence set: * not allowed in QRESYNC");
    }
  }
  return set;
}

// "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
//     [SP seq-match-data] ")";  seq-match-data = "(" known-sequence-set SP known-uid-set ")"
// (RFC 7162 §3.2.5, §7).
std::expected<QresyncParameters, std::string> qresync(Value& value) {
  if (value.kind != Value::Kind::list) return std::unexpected("QRESYNC: parameter list expected");
  QresyncParameters out;
  std::vector<Value>& items = value.items;
  if (items.size() < 2 || items.size() > 4)
    return std::unexpected("QRESYNC: wrong number of parameters");
  if (items[0].kind != Value::Kind::atom || items[1].kind != Value::Kind::atom) {
    return std::unexpected("QRESYNC: UIDVALIDITY and MODSEQ expected");
  }
  auto uidvalidity = parse_nz_number(items[0].text, "QRESYNC UIDVALIDITY");
  if (!uidvalidity) return std::unexpected(std::move(uidvalidity.error()));
  auto modseq = parse_mod_sequence_value(items[1].text, "QRESYNC MODSEQ");
  if (!modseq) return std::unexpected(std::move(modseq.error()));
  out.uidvalidity = *uidvalidity;
  out.modseq = *modseq;
  std::size_t next = 2;
  if (next < items.size() && items[next].kind != Value::Kind::list) {
    auto known = known_set(items[next]);
    if (!known) return std::unexpected("QRESYNC known UIDs: " + known.error());
    out.known_uids = std::move(*known);
    ++next;
  }
  if (next < items.size()) {
    Value& match = items[next];
    if (match.kind != Value::Kind::list || match.items.size() != 2) {
      return std::unexpected("QRESYNC: sequence match data expected");
    }
    auto sequence_set = known_set(match.items[0]);
    if (!sequence_set)
      return std::unexpected("QRESYNC known sequence set: " + sequence_set.error());
    auto uid_set = known_set(match.items[1]);
    if (!uid_set) return std::unexpected("QRESYNC known UID set: " + uid_set.error());
    out.known_sequence_set = std::move(*sequence_set);
    out.known_uid_set = std::move(*uid_set);
    ++next;
  }
  if (next != items.size()) return std::unexpected("QRESYNC: unexpected parameter");
  return out;
}

struct StatusName {
  std::string_view name;
  StatusItem item;
};

constexpr std::array<StatusName, 9> kStatusItems = {{
    {"MESSAGES", StatusItem::messages},
    {"UIDNEXT", StatusItem::uidnext},
    {"UIDVALIDITY", StatusItem::uidvalidity},
    {"UNSEEN", StatusItem::unseen},
    {"DELETED", StatusItem::deleted},              // RFC 9051
    {"SIZE", StatusItem::size},                    // RFC 9051 (STATUS=SIZE, RFC 8438)
    {"RECENT", StatusItem::recent},                // RFC 3501
    {"HIGHESTMODSEQ", StatusItem::highestmodseq},  // RFC 7162 §3.1.6
    {"APPENDLIMIT", StatusItem::appendlimit},      // RFC 7889 §3.2
}};

// "(" status-att *(SP status-att) ")"; duplicates are dropped.
std::expected<std::vector<StatusItem>, std::string> status_items(const Value& value) {
  if (value.kind != Value::Kind::list) return std::unexpected("STATUS: item list expected");
  if (value.items.empty()) return std::unexpected("STATUS: empty item list");
  std::vector<StatusItem> items;
  for (const Value& item : value.items) {
    const StatusName* found = nullptr;
    for (const StatusName& known : kStatusItems) {
      if (is_keyword(item, known.name)) found = &known;
    }
    if (!found) return std::unexpected("STATUS: unknown item " + describe(item));
    bool duplicate = false;
    for (StatusItem seen : items) duplicate = duplicate || seen == found->item;
    if (!duplicate) items.push_back(found->item);
  }
  return items;
}

// LIST-EXTENDED selection options (RFC 5258 §3.1, SPECIAL-USE RFC 6154 §3).
std::expected<void, std::string> selection_options(const Value& value, ListCommand& list) {
  for (const Value& option : value.items) {
    if (is_keyword(option, "SUBSCRIBED")) {
      list.select_subscribed = true;
    } else if (is_keyword(option, "REMOTE")) {
      list.select_remote = true;
    } else if (is_keyword(option, "RECURSIVEMATCH")) {
      list.select_recursive_match = true;
    } else if (is_keyword(option, "SPECIAL-USE")) {
      list.select_special_use = true;
    } else {
      return std::unexpected("LIST: unknown selection option " + describe(option));
    }
  }
  // RFC 5258 §3.1: RECURSIVEMATCH only modifies a base option (SUBSCRIBED, SPECIAL-USE).
  if (list.select_recursive_match && !list.select_subscribed && !list.select_special_use) {
    return std::unexpected("LIST: RECURSIVEMATCH needs another selection option");
  }
  return {};
}

// list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
// (RFC 5258 §3.2, STATUS RFC 5819 §2, SPECIAL-USE RFC 6154 §3).
std::expected<void, std::string> return_options(const Value& value, ListCommand& list) {
  if (value.kind != Value::Kind::list) return std::unexpected("LIST: RETURN needs a list");
  for (std::size_t i = 0; i < value.items.size(); ++i) {
    const Value& option = value.items[i];
    if (is_keyword(option, "SUBSCRIBED")) {
      list.return_subscribed = true;
    } else if (is_keyword(option, "CHILDREN")) {
      list.return_children = true;
    } else if (is_keyword(option, "SPECIAL-USE")) {
      list.return_special_use = true;
    } else if (is_keyword(option, "STATUS")) {
      if (++i >= value.items.size()) return std::unexpected("LIST: STATUS needs an item list");
      auto items = status_items(value.items[i]);
      if (!items) return std::unexpected("LIST RETURN " + items.error());
      list.return_status = std::move(*items);
    } else {
      return std::unexpected("LIST: unknown return option " + describe(option));
    }
  }
  return {};
}

// The known SPECIAL-USE attributes in their RFC 6154 §2 spelling; others stay as sent.
std::string canonical_use(std::string attribute) {
  static constexpr std::array<std::string_view, 7> kUses = {
      "\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"};
  for (std::string_view use : kUses) {
    if (equals_ignoring_case(attribute, use)) return std::string(use);
  }
  return attribute;
}

}  // namespace

// select = "SELECT" SP mailbox [select-params]; examine likewise (RFC 9051, RFC 4466 §2.2);
// select-param = "CONDSTORE" (RFC 7162 §3.1.8) / "QRESYNC" SP "(" ... ")" (§3.2.5).
Result select(ArgumentCursor& arguments, bool read_only) {
  SelectCommand command;
  command.read_only = read_only;
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  command.mailbox = std::move(*mailbox);
  if (Value* params = arguments.peek(); params && params->kind == Value::Kind::list) {
    (void)arguments.next("parameters");
    if (params->items.empty()) return std::unexpected("SELECT: empty parameter list");
    for (std::size_t i = 0; i < params->items.size(); ++i) {
      const Value& param = params->items[i];
      if (is_keyword(param, "CONDSTORE")) {
        command.condstore = true;
      } else if (is_keyword(param, "QRESYNC")) {
        if (command.qresync) return std::unexpected("SELECT: QRESYNC given twice");
        if (++i >= params->items.size()) return std::unexpected("QRESYNC: parameter list expected");
        auto parameters = qresync(params->items[i]);
        if (!parameters) return std::unexpected(std::move(parameters.error()));
        command.qresync = std::move(*parameters);
      } else {
        return std::unexpected("SELECT: unknown parameter " + describe(param));
      }
    }
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// create = "CREATE" SP mailbox [create-params] (RFC 4466 §2.2);
// create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")" (RFC 6154 §6).
Result create(ArgumentCursor& arguments) {
  CreateCommand command;
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  command.mailbox = std::move(*mailbox);
  if (Value* params = arguments.peek(); params && params->kind == Value::Kind::list) {
    (void)arguments.next("parameters");
    if (params->items.empty()) return std::unexpected("CREATE: empty parameter list");
    for (std::size_t i = 0; i < params->items.size(); ++i) {
      if (!is_keyword(params->items[i], "USE")) {
        return std::unexpected("CREATE: unknown parameter " + describe(params->items[i]));
      }
      if (++i >= params->items.size() || params->items[i].kind != Value::Kind::list) {
        return std::unexpected("CREATE: USE needs an attribute list");
      }
      for (Value& use : params->items[i].items) {
        // use-attr = "\All" / ... / use-attr-ext; use-attr-ext = "\" atom
        if (use.kind != Value::Kind::atom || !use.text.starts_with('\\') ||
            !is_atom(std::string_view(use.text).substr(1))) {
          return std::unexpected("CREATE: invalid special-use attribute " + describe(use));
        }
        command.special_use.push_back(canonical_use(std::move(use.text)));
      }
    }
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

Result delete_mailbox(ArgumentCursor& arguments) {
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return DeleteCommand{std::move(*mailbox)};
}

// rename = "RENAME" SP mailbox SP mailbox
Result rename(ArgumentCursor& arguments) {
  auto from = arguments.mailbox();
  if (!from) return std::unexpected(std::move(from.error()));
  auto to = arguments.mailbox();
  if (!to) return std::unexpected(std::move(to.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return RenameCommand{std::move(*from), std::move(*to)};
}

Result subscribe(ArgumentCursor& arguments, bool subscribe) {
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return SubscribeCommand{std::move(*mailbox), subscribe};
}

// list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
// mbox-or-pat = list-mailbox / patterns; patterns = "(" list-mailbox *(SP list-mailbox) ")"
// (RFC 5258 §6, RFC 9051 §9).
Result list(ArgumentCursor& arguments) {
  ListCommand command;
  if (Value* options = arguments.peek(); options && options->kind == Value::Kind::list) {
    (void)arguments.next("selection options");
    command.extended = true;
    if (auto ok = selection_options(*options, command); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
  }
  auto reference = arguments.astring("reference name");
  if (!reference) return std::unexpected(std::move(reference.error()));
  command.reference = std::move(*reference);
  auto patterns = arguments.next("mailbox pattern");
  if (!patterns) return std::unexpected(std::move(patterns.error()));
  if ((*patterns)->kind == Value::Kind::list) {
    command.extended = true;
    if ((*patterns)->items.empty()) return std::unexpected("LIST: empty pattern list");
    for (Value& item : (*patterns)->items) {
      auto pattern = take_list_mailbox(item);
      if (!pattern) return std::unexpected(std::move(pattern.error()));
      command.patterns.push_back(std::move(*pattern));
    }
  } else {
    auto pattern = take_list_mailbox(**patterns);
    if (!pattern) return std::unexpected(std::move(pattern.error()));
    command.patterns.push_back(std::move(*pattern));
  }
  if (arguments.accept_keyword("RETURN")) {
    command.extended = true;
    auto options = arguments.next("return options");
    if (!options) return std::unexpected(std::move(options.error()));
    if (auto ok = return_options(**options, command); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// lsub = "LSUB" SP mailbox SP list-mailbox (RFC 3501 §6.3.9).
Result lsub(ArgumentCursor& arguments) {
  ListCommand command;
  command.lsub = true;
  command.select_subscribed = true;
  auto reference = arguments.astring("reference name");
  if (!reference) return std::unexpected(std::move(reference.error()));
  command.reference = std::move(*reference);
  auto value = arguments.next("mailbox pattern");
  if (!value) return std::unexpected(std::move(value.error()));
  auto pattern = take_list_mailbox(**value);
  if (!pattern) return std::unexpected(std::move(pattern.error()));
  command.patterns.push_back(std::move(*pattern));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
Result status(ArgumentCursor& arguments) {
  StatusCommand command;
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  command.mailbox = std::move(*mailbox);
  auto list = arguments.next("status items");
  if (!list) return std::unexpected(std::move(list.error()));
  auto items = status_items(**list);
  if (!items) return std::unexpected(std::move(items.error()));
  command.items = std::move(*items);
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP append-data
// append-data = literal / literal8 (RFC 3516 §4.4) / "UTF8" SP "(" literal8 ")"
// (RFC 6855 §4; a plain literal is accepted there too).
Result append(ArgumentCursor& arguments) {
  AppendCommand command;
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  command.mailbox = std::move(*mailbox);
  if (Value* flags = arguments.peek(); flags && flags->kind == Value::Kind::list) {
    auto list = take_flag_list(*flags);
    if (!list) return std::unexpected(std::move(list.error()));
    command.flags = std::move(*list);
    (void)arguments.next("flags");
  }
  if (Value* date = arguments.peek(); date && date->kind == Value::Kind::quoted) {
    auto seconds = parse_date_time(date->text);
    if (!seconds) return std::unexpected(std::move(seconds.error()));
    command.internal_date = *seconds;
    (void)arguments.next("date-time");
  }
  auto data = arguments.next("message literal");
  if (!data) return std::unexpected(std::move(data.error()));
  Value* literal = *data;
  if (is_keyword(*literal, "UTF8")) {
    auto list = arguments.next("UTF8 message literal");
    if (!list) return std::unexpected(std::move(list.error()));
    if ((*list)->kind != Value::Kind::list || (*list)->items.size() != 1) {
      return std::unexpected("APPEND: UTF8 needs one literal in parentheses");
    }
    command.utf8 = true;
    literal = &(*list)->items.front();
  }
  if (literal->kind != Value::Kind::literal) {
    return std::unexpected("APPEND: message literal expected");
  }
  command.message = std::move(literal->text);
  command.binary = literal->binary;
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

}  // namespace postamt::proto::imap::command_parsers
