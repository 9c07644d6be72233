// SORT and THREAD (RFC 5256 §3 formal syntax), with the ESORT return options of RFC 5267
// §3.2 and the DISPLAYFROM / DISPLAYTO keys of SORT=DISPLAY (RFC 5957 §3):
//   sort            = ["UID" SP] "SORT" [search-return-opts] SP sort-criteria SP
//                     search-criteria
//   sort-criteria   = "(" sort-criterion *(SP sort-criterion) ")"
//   sort-criterion  = ["REVERSE" SP] sort-key
//   thread          = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
//   search-criteria = charset 1*(SP search-key)      ; the charset is not optional here
// The search keys are SEARCH's (search_key_parser.hpp).
#include <array>
#include <string_view>

#include "proto/imap/command_parsers.hpp"
#include "proto/imap/search_key_parser.hpp"

namespace postamt::proto::imap::command_parsers {
namespace {

struct SortKeyName {
  std::string_view name;
  SortKey key;
};

constexpr std::array<SortKeyName, 9> kSortKeys = {{
    {"ARRIVAL", SortKey::arrival},
    {"CC", SortKey::cc},
    {"DATE", SortKey::date},
    {"FROM", SortKey::from},
    {"SIZE", SortKey::size},
    {"SUBJECT", SortKey::subject},
    {"TO", SortKey::to},
    {"DISPLAYFROM", SortKey::display_from},  // RFC 5957
    {"DISPLAYTO", SortKey::display_to},
}};

std::expected<std::vector<SortCriterion>, std::string> parse_criteria(const Value& list) {
  if (list.kind != Value::Kind::list) {
    return std::unexpected("SORT: sort criteria must be a parenthesised list");
  }
  if (list.items.empty()) return std::unexpected("SORT: empty sort criteria");
  std::vector<SortCriterion> criteria;
  bool reverse = false;
  for (const Value& item : list.items) {
    if (item.kind != Value::Kind::atom) {
      return std::unexpected("SORT: invalid sort key " + describe(item));
    }
    if (is_keyword(item, "REVERSE")) {
      // RFC 5256 §5: one REVERSE per key ("REVERSE REVERSE" is not in the grammar).
      if (reverse) return std::unexpected("SORT: REVERSE needs a sort key after it");
      reverse = true;
      continue;
    }
    const std::string name = to_upper(item.text);
    const SortKeyName* found = nullptr;
    for (const SortKeyName& candidate : kSortKeys) {
      if (candidate.name == name) found = &candidate;
    }
    if (found == nullptr) return std::unexpected("SORT: unknown sort key " + preview(item.text));
    criteria.push_back(SortCriterion{found->key, reverse});
    reverse = false;
  }
  if (reverse) return std::unexpected("SORT: REVERSE needs a sort key after it");
  return criteria;
}

// charset = atom / quoted, then at least one search key.
std::expected<std::pair<std::string, SearchKey>, std::string> parse_search_criteria(
    ArgumentCursor& arguments, std::string_view command) {
  auto charset = arguments.next("charset");
  if (!charset) return std::unexpected(std::move(charset.error()));
  if (!((*charset)->kind == Value::Kind::atom && is_atom((*charset)->text)) &&
      (*charset)->kind != Value::Kind::quoted) {
    return std::unexpected(std::string(command) + ": invalid charset");
  }
  std::string name = to_upper((*charset)->text);
  std::vector<Value> keys = arguments.take_rest();
  auto key = parse_search_keys(keys);
  if (!key) return std::unexpected(std::move(key.error()));
  return std::pair{std::move(name), std::move(*key)};
}

}  // namespace

Result sort(ArgumentCursor& arguments, bool uid) {
  SortCommand command;
  command.uid = uid;
  if (arguments.accept_keyword("RETURN")) {  // RFC 5267 §3.2
    auto options = arguments.next("RETURN options");
    if (!options) return std::unexpected(std::move(options.error()));
    auto parsed = parse_search_return(**options);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    // RFC 5267 §3.2: SAVE is a SEARCHRES option of SEARCH, not one of SORT.
    if (parsed->save) return std::unexpected("SORT: SAVE is not a SORT return option");
    command.return_options = *parsed;
  }
  auto list = arguments.next("sort criteria");
  if (!list) return std::unexpected(std::move(list.error()));
  auto criteria = parse_criteria(**list);
  if (!criteria) return std::unexpected(std::move(criteria.error()));
  command.criteria = std::move(*criteria);
  auto search = parse_search_criteria(arguments, "SORT");
  if (!search) return std::unexpected(std::move(search.error()));
  command.charset = std::move(search->first);
  command.key = std::move(search->second);
  return command;
}

Result thread(ArgumentCursor& arguments, bool uid) {
  ThreadCommand command;
  command.uid = uid;
  auto algorithm = arguments.next("thread algorithm");
  if (!algorithm) return std::unexpected(std::move(algorithm.error()));
  if (is_keyword(**algorithm, "REFERENCES")) {
    command.algorithm = ThreadAlgorithm::references;
  } else if (is_keyword(**algorithm, "ORDEREDSUBJECT")) {
    command.algorithm = ThreadAlgorithm::ordered_subject;
  } else {
    return std::unexpected("THREAD: unknown algorithm " + describe(**algorithm));
  }
  auto search = parse_search_criteria(arguments, "THREAD");
  if (!search) return std::unexpected(std::move(search.error()));
  command.charset = std::move(search->first);
  command.key = std::move(search->second);
  return command;
}

}  // namespace postamt::proto::imap::command_parsers
