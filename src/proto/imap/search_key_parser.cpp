#include "proto/imap/search_key_parser.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "proto/imap/command_arguments.hpp"
#include "proto/imap/imap_date.hpp"

namespace postamt::proto::imap {
namespace {

using Kind = SearchKey::Kind;

enum class Argument {
  none,
  astring,
  header,
  keyword,
  date,
  number64,
  nz_number,
  set,
  modseq,
  not_,
  or_
};

struct KeyRule {
  std::string_view name;
  Kind kind;
  Argument argument;
};

constexpr std::array<KeyRule, 38> kKeys = {{
    {"ALL", Kind::all, Argument::none},
    {"ANSWERED", Kind::answered, Argument::none},
    {"DELETED", Kind::deleted, Argument::none},
    {"DRAFT", Kind::draft, Argument::none},
    {"FLAGGED", Kind::flagged, Argument::none},
    {"SEEN", Kind::seen, Argument::none},
    {"RECENT", Kind::recent, Argument::none},  // RFC 3501
    {"NEW", Kind::new_, Argument::none},       // RFC 3501
    {"OLD", Kind::old, Argument::none},        // RFC 3501
    {"UNANSWERED", Kind::unanswered, Argument::none},
    {"UNDELETED", Kind::undeleted, Argument::none},
    {"UNDRAFT", Kind::undraft, Argument::none},
    {"UNFLAGGED", Kind::unflagged, Argument::none},
    {"UNSEEN", Kind::unseen, Argument::none},
    {"KEYWORD", Kind::keyword, Argument::keyword},
    {"UNKEYWORD", Kind::unkeyword, Argument::keyword},
    {"BCC", Kind::bcc, Argument::astring},
    {"BODY", Kind::body, Argument::astring},
    {"CC", Kind::cc, Argument::astring},
    {"FROM", Kind::from, Argument::astring},
    {"SUBJECT", Kind::subject, Argument::astring},
    {"TEXT", Kind::text, Argument::astring},
    {"TO", Kind::to, Argument::astring},
    {"HEADER", Kind::header, Argument::header},
    {"BEFORE", Kind::before, Argument::date},
    {"ON", Kind::on, Argument::date},
    {"SINCE", Kind::since, Argument::date},
    {"SENTBEFORE", Kind::sent_before, Argument::date},
    {"SENTON", Kind::sent_on, Argument::date},
    {"SENTSINCE", Kind::sent_since, Argument::date},
    {"OLDER", Kind::older, Argument::nz_number},      // RFC 5032
    {"YOUNGER", Kind::younger, Argument::nz_number},  // RFC 5032
    {"LARGER", Kind::larger, Argument::number64},
    {"SMALLER", Kind::smaller, Argument::number64},
    {"UID", Kind::uid, Argument::set},
    {"MODSEQ", Kind::modseq, Argument::modseq},  // RFC 7162 §3.1.5
    {"NOT", Kind::not_, Argument::not_},
    {"OR", Kind::or_, Argument::or_},
}};

const KeyRule* find_rule(std::string_view upper_name) {
  for (const KeyRule& rule : kKeys) {
    if (rule.name == upper_name) return &rule;
  }
  return nullptr;
}

class KeyParser {
 public:
  explicit KeyParser(std::vector<Value>& values) : values_(values) {}

  bool at_end() const { return position_ >= values_.size(); }

  std::expected<SearchKey, std::string> key(std::size_t depth) {
    if (at_end()) return std::unexpected("SEARCH: missing search key");
    Value& value = values_[position_++];
    if (value.kind == Value::Kind::list) return group(value, depth + 1);
    if (value.kind != Value::Kind::atom) {
      return std::unexpected("SEARCH: unknown key " + preview(value.text));
    }
    const std::string name = to_upper(value.text);
    const KeyRule* rule = find_rule(name);
    if (!rule) return sequence_set_key(value);
    SearchKey key;
    key.kind = rule->kind;
    switch (rule->argument) {
      case Argument::none: return key;
      case Argument::astring: {
        auto text = string_argument(name);
        if (!text) return std::unexpected(std::move(text.error()));
        key.text = std::move(*text);
        return key;
      }
      case Argument::header: {  // "HEADER" SP header-fld-name SP astring
        auto field = string_argument(name);
        if (!field) return std::unexpected(std::move(field.error()));
        if (field->empty()) return std::unexpected("SEARCH: empty HEADER field name");
        auto needle = string_argument(name);
        if (!needle) return std::unexpected(std::move(needle.error()));
        key.text = std::move(*field);
        key.value = std::move(*needle);
        return key;
      }
      case Argument::keyword: {  // flag-keyword = atom
        auto argument = next(name);
        if (!argument) return std::unexpected(std::move(argument.error()));
        if ((*argument)->kind != Value::Kind::atom || !is_atom((*argument)->text)) {
          return std::unexpected("SEARCH: " + name + " needs a keyword");
        }
        key.text = std::move((*argument)->text);
        return key;
      }
      case Argument::date: {
        auto argument = next(name);
        if (!argument) return std::unexpected(std::move(argument.error()));
        const Value& date_value = **argument;
        if (date_value.kind != Value::Kind::atom && date_value.kind != Value::Kind::quoted) {
          return std::unexpected("SEARCH: " + name + " needs a date");
        }
        auto day = parse_date(date_value.text);
        if (!day) return std::unexpected("SEARCH: " + name + ": " + day.error());
        key.day = *day;
        return key;
      }
      case Argument::number64:
      case Argument::nz_number: {
        auto argument = next(name);
        if (!argument) return std::unexpected(std::move(argument.error()));
        if ((*argument)->kind != Value::Kind::atom) {
          return std::unexpected("SEARCH: " + name + " needs a number");
        }
        const std::string what = name + " number";
        if (rule->argument == Argument::number64) {
          auto number = parse_number64((*argument)->text, what);
          if (!number) return std::unexpected("SEARCH: " + number.error());
          key.number = *number;
        } else {
          auto number = parse_nz_number((*argument)->text, what);
          if (!number) return std::unexpected("SEARCH: " + number.error());
          key.number = *number;
        }
        return key;
      }
      case Argument::set: {
        auto argument = next(name);
        if (!argument) return std::unexpected(std::move(argument.error()));
        auto set = parse_sequence_set(**argument);
        if (!set) return std::unexpected("SEARCH: UID: " + set.error());
        key.set = std::move(*set);
        return key;
      }
      case Argument::modseq: return modseq(std::move(key));
      case Argument::not_:
      case Argument::or_: {
        if (depth + 1 > kMaxSearchDepth) return std::unexpected("SEARCH: keys nested too deep");
        const int count = rule->argument == Argument::or_ ? 2 : 1;
        for (int i = 0; i < count; ++i) {
          if (at_end()) return std::unexpected("SEARCH: " + name + " needs a search key");
          auto child = this->key(depth + 1);
          if (!child) return child;
          key.children.push_back(std::move(*child));
        }
        return key;
      }
    }
    return std::unexpected("SEARCH: unknown key " + preview(value.text));
  }

 private:
  std::expected<Value*, std::string> next(std::string_view name) {
    if (at_end()) return std::unexpected("SEARCH: missing argument of " + std::string(name));
    return &values_[position_++];
  }

  std::expected<std::string, std::string> string_argument(std::string_view name) {
    auto argument = next(name);
    if (!argument) return std::unexpected(std::move(argument.error()));
    auto text = take_astring(**argument, std::string(name) + " argument");
    if (!text) return std::unexpected("SEARCH: " + text.error());
    return text;
  }

  // "(" search-key *(SP search-key) ")"
  std::expected<SearchKey, std::string> group(Value& list, std::size_t depth) {
    if (depth > kMaxSearchDepth) return std::unexpected("SEARCH: keys nested too deep");
    if (list.items.empty()) return std::unexpected("SEARCH: empty parenthesised key");
    KeyParser inner(list.items);
    SearchKey key;
    key.kind = Kind::and_;
    while (!inner.at_end()) {
      auto child = inner.key(depth);
      if (!child) return child;
      key.children.push_back(std::move(*child));
    }
    return key;
  }

  // A bare sequence-set (message numbers, or "$"), or else an unknown key.
  std::expected<SearchKey, std::string> sequence_set_key(const Value& value) {
    const char first = value.text.empty() ? '\0' : value.text.front();
    if (!((first >= '0' && first <= '9') || first == '*' || first == '$')) {
      return std::unexpected("SEARCH: unknown key " + preview(value.text));
    }
    auto set = parse_sequence_set(value);
    if (!set) return std::unexpected("SEARCH: " + set.error());
    SearchKey key;
    key.kind = Kind::sequence_set;
    key.set = std::move(*set);
    return key;
  }

  // "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer (RFC 7162 §3.1.5);
  // entry-name = DQUOTE "/flags/" attr-flag DQUOTE, entry-type-req = "priv" / "shared" /
  // "all". The entry only narrows which flag's modseq counts; Postamt keeps one modseq per
  // message, so it is checked and then ignored.
  std::expected<SearchKey, std::string> modseq(SearchKey key) {
    auto argument = next("MODSEQ");
    if (!argument) return std::unexpected(std::move(argument.error()));
    if ((*argument)->kind == Value::Kind::quoted) {
      const std::string& entry = (*argument)->text;
      const std::string_view flag =
          std::string_view(entry).substr(std::min<std::size_t>(7, entry.size()));
      const std::string_view bare = flag.starts_with('\\') ? flag.substr(1) : flag;
      if (!starts_with_ignoring_case(entry, "/flags/") || !is_atom(bare)) {
        return std::unexpected("SEARCH: invalid MODSEQ entry name " + preview(entry));
      }
      auto type = next("MODSEQ");
      if (!type) return std::unexpected(std::move(type.error()));
      if (!is_keyword(**type, "priv") && !is_keyword(**type, "shared") &&
          !is_keyword(**type, "all")) {
        return std::unexpected("SEARCH: invalid MODSEQ entry type " + preview((*type)->text));
      }
      argument = next("MODSEQ");
      if (!argument) return std::unexpected(std::move(argument.error()));
    }
    if ((*argument)->kind != Value::Kind::atom) {
      return std::unexpected("SEARCH: MODSEQ needs a number");
    }
    auto number = parse_number64((*argument)->text, "MODSEQ value");  // mod-sequence-valzer
    if (!number) return std::unexpected("SEARCH: " + number.error());
    key.number = *number;
    return key;
  }

  std::vector<Value>& values_;
  std::size_t position_ = 0;
};

}  // namespace

std::expected<SearchKey, std::string> parse_search_keys(std::vector<Value>& keys) {
  if (keys.empty()) return std::unexpected("SEARCH: missing search key");
  KeyParser parser(keys);
  SearchKey all;
  all.kind = Kind::and_;
  while (!parser.at_end()) {
    auto key = parser.key(0);
    if (!key) return key;
    all.children.push_back(std::move(*key));
  }
  return all;
}

std::expected<SearchReturn, std::string> parse_search_return(const Value& options) {
  if (options.kind != Value::Kind::list) {
    return std::unexpected("SEARCH: RETURN needs a parenthesised list");
  }
  SearchReturn out;
  if (options.items.empty()) {  // RFC 4731 §3.1: "RETURN ()" is "RETURN (ALL)"
    out.all = true;
    return out;
  }
  for (std::size_t i = 0; i < options.items.size(); ++i) {
    const Value& option = options.items[i];
    if (is_keyword(option, "PARTIAL")) {  // RFC 9394 §3.1
      if (++i >= options.items.size() || options.items[i].kind != Value::Kind::atom) {
        return std::unexpected("SEARCH: PARTIAL needs a range such as 1:100 or -1:-100");
      }
      auto range = parse_partial_range(options.items[i].text);
      if (!range) return std::unexpected(std::move(range.error()));
      out.partial = *range;
    } else if (is_keyword(option, "MIN")) {
      out.min = true;
    } else if (is_keyword(option, "MAX")) {
      out.max = true;
    } else if (is_keyword(option, "ALL")) {
      out.all = true;
    } else if (is_keyword(option, "COUNT")) {
      out.count = true;
    } else if (is_keyword(option, "SAVE")) {  // RFC 5182 §2.2
      out.save = true;
    } else {
      return std::unexpected("SEARCH: unknown return option " + preview(option.text));
    }
  }
  // RFC 9394 §3.1: ALL is the whole result, PARTIAL a window of it; not both at once.
  if (out.all && out.partial) return std::unexpected("SEARCH: ALL and PARTIAL cannot be combined");
  return out;
}

}  // namespace postamt::proto::imap
