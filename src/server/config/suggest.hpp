#pragma once
// "Did you mean ...?" for misspelled keys and values.
#include <optional>
#include <span>
#include <string_view>

namespace postamt::config {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ASCII
// case-insensitive, so "hostanme" and "HostName" are both close to "hostname".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The first candidate at the smallest distance, when that distance is at most kMaxSuggestDistance.
inline constexpr std::size_t kMaxSuggestDistance = 2;
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace postamt::config
