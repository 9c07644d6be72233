#pragma once
// SEARCH keys (RFC 9051 §6.4.4 and §9 "search-key", plus RFC 3501's NEW / OLD / RECENT,
// MODSEQ of RFC 7162 §3.1.5, OLDER / YOUNGER of RFC 5032 §3) and the SEARCH return options
// (RFC 4731 §3.1, SAVE of RFC 5182 §2.2).
//
// Keys nest through "(...)", NOT and OR. The tokenizer bounds the parentheses; NOT and OR
// chains need no parentheses, so the nesting of the resulting tree is bounded here: a tree
// never nests deeper than kMaxSearchDepth, and whoever walks it recursively may rely on it.
#include <cstddef>
#include <expected>
#include <string>
#include <vector>

#include "proto/imap/commands.hpp"

namespace postamt::proto::imap {

inline constexpr std::size_t kMaxSearchDepth = 100;

// Every value of `keys` as one search-key each, gathered under an and_ key (at least one).
std::expected<SearchKey, std::string> parse_search_keys(std::vector<Value>& keys);

// "(" [search-return-opt *(SP search-return-opt)] ")"; an empty list means ALL (RFC 4731
// §3.1), so `all` is set for it.
std::expected<SearchReturn, std::string> parse_search_return(const Value& options);

}  // namespace postamt::proto::imap
