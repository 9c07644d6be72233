#include "proto/imap/list_pattern.hpp"

#include <algorithm>
#include <utility>

namespace postamt::proto::imap {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Length of the INBOX level at the start of `name` (5), or 0 if the name is not INBOX or
// beneath it.
std::size_t inbox_prefix(std::string_view name) {
  if (name.size() < 5) return 0;
  if (name.size() > 5 && name[5] != kHierarchyDelimiter) return 0;
  constexpr std::string_view kInbox = "inbox";
  for (std::size_t i = 0; i < 5; ++i) {
    if (lower(name[i]) != kInbox[i]) return 0;
  }
  return 5;
}

}  // namespace

std::string combine_list_reference(std::string_view reference, std::string_view pattern) {
  if (!pattern.empty() && pattern.front() == kHierarchyDelimiter) return std::string(pattern);
  std::string combined(reference);
  combined += pattern;
  return combined;
}

ListPattern::ListPattern(std::string pattern) : pattern_(std::move(pattern)) {}

std::vector<char> ListPattern::run(std::string_view name) const {
  const std::string_view pattern = pattern_;
  const std::size_t inbox = inbox_prefix(name);
  // active[i]: the first i pattern characters can match the name read so far. A wildcard
  // at i may match nothing, so i being active makes i + 1 active too (closure, left to
  // right in one pass because it only moves forward).
  std::vector<char> active(pattern.size() + 1, 0);
  std::vector<char> next(pattern.size() + 1, 0);
  auto close = [&](std::vector<char>& states) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (states[i] && (pattern[i] == '*' || pattern[i] == '%')) states[i + 1] = 1;
    }
  };
  active[0] = 1;
  close(active);
  for (std::size_t at = 0; at < name.size(); ++at) {
    const char c = name[at];
    const bool fold = at < inbox;
    bool any = false;
    std::fill(next.begin(), next.end(), 0);
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (!active[i]) continue;
      const char p = pattern[i];
      if (p == '*' || (p == '%' && c != kHierarchyDelimiter)) {
        next[i] = 1;  // the wildcard takes this character and may take more
        any = true;
      } else if (p == c || (fold && lower(p) == lower(c))) {
        next[i + 1] = 1;
        any = true;
      }
    }
    if (!any) return {};
    close(next);
    active.swap(next);
  }
  return active;
}

bool ListPattern::matches(std::string_view name) const {
  const std::vector<char> states = run(name);
  return !states.empty() && states.back() != 0;
}

bool ListPattern::could_match_below(std::string_view name) const {
  std::string prefix(name);
  prefix += kHierarchyDelimiter;
  const std::vector<char> states = run(prefix);
  // Any live state can still reach the end: the rest of the pattern is some literal
  // text and wildcards, which a long enough name spells out.
  for (char state : states) {
    if (state) return true;
  }
  return false;
}

bool matches_any(std::string_view reference, const std::vector<std::string>& patterns,
                 std::string_view name) {
  for (const std::string& pattern : patterns) {
    if (ListPattern(reference, pattern).matches(name)) return true;
  }
  return false;
}

}  // namespace postamt::proto::imap
