#pragma once
// The SEARCH prefilter: which messages can possibly match a search key's BODY / TEXT needles,
// asked of the store's full-text index instead of reading every message. It only narrows:
// each candidate is still checked with search_matches, so results stay RFC 9051 §6.4.4
// substring matches whatever the index holds.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proto/imap/commands.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::imap {

// A needle needs this many characters (UTF-8 code points) for the trigram index.
inline constexpr std::size_t kMinIndexedNeedleCharacters = 3;
// Longer needles are cut to their first this many characters: a text holding the whole
// needle holds its beginning too.
inline constexpr std::size_t kMaxIndexedNeedleCharacters = 256;
// At most this many needles are returned (the longest: they narrow the most).
inline constexpr std::size_t kMaxIndexedNeedles = 8;

// Folded needles (fold_for_search) that the header-and-body text of EVERY message matching
// `key` contains: those of BODY and TEXT keys at the top level or inside AND groups, never
// under NOT or OR (RFC 9051 §6.4.4: a message matches "(a b)" only when it matches both).
// Needles shorter than kMinIndexedNeedleCharacters are left out, and so is a needle that
// another one contains. Longest first (ties in byte order). Empty: the index cannot
// narrow this search.
std::vector<std::string> required_substrings(const proto::imap::SearchKey& key);

// UIDs (ascending) of the mailbox's messages that can match when every needle is required:
// the messages not indexed yet, and those whose indexed text holds every needle. Blocking
// (run it on the storage pool). `needles` must not be empty (invalid otherwise).
storage::StoreResult<std::vector<std::uint32_t>> text_search_candidates(
    storage::MailStore& store, storage::Id mailbox_id, std::span<const std::string> needles);

}  // namespace postamt::imap
