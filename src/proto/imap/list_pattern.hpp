#pragma once
// LIST / LSUB name matching (RFC 9051 §6.3.9). Postamt's hierarchy delimiter is "/"; "~"
// and "#" have no special meaning (no personal or shared namespaces by those prefixes).
//
// The reference and the pattern are joined into one canonical pattern: reference followed
// by pattern, except that a pattern beginning with the delimiter stands alone (an absolute
// name breaks out of the reference, as in the RFC's "~smith/Mail/" + "/usr/doc/foo"
// example). In the pattern "*" matches any characters, "%" any except "/". A name whose
// first level is INBOX (in any case) matches that level case-insensitively (RFC 9051 §5.1:
// INBOX is case-insensitive); everything else is compared octet by octet.
//
// Matching simulates the pattern as an automaton over the name: time is
// O(pattern length x name length) whatever the wildcards, memory O(pattern length).
#include <string>
#include <string_view>
#include <vector>

namespace postamt::proto::imap {

inline constexpr char kHierarchyDelimiter = '/';

// The canonical pattern of a reference and a mailbox pattern.
std::string combine_list_reference(std::string_view reference, std::string_view pattern);

class ListPattern {
 public:
  // `pattern` is already canonical (see combine_list_reference).
  explicit ListPattern(std::string pattern);
  ListPattern(std::string_view reference, std::string_view pattern)
      : ListPattern(combine_list_reference(reference, pattern)) {}

  bool matches(std::string_view name) const;
  // Whether some name below `name` ("name/...") can match: for the RFC 5258 §3.5 CHILDINFO
  // and RECURSIVEMATCH answers, and LSUB's parents of "%" matches (RFC 3501 §6.3.9).
  bool could_match_below(std::string_view name) const;
  const std::string& pattern() const { return pattern_; }

 private:
  // The automaton's states after reading `name` (empty when no state is left).
  std::vector<char> run(std::string_view name) const;

  std::string pattern_;
};

// Whether `name` matches any of the patterns, each combined with `reference`.
bool matches_any(std::string_view reference, const std::vector<std::string>& patterns,
                 std::string_view name);

}  // namespace postamt::proto::imap
