#pragma once
// The built-in classifier's tokens (issue 15 §5): what a message is made of as far as
// learning goes. Pure: no I/O.
//
// Tokens are lower-cased words (letters, digits and any non-ASCII UTF-8, 3 to 40 octets;
// ' - . _ inside a word kept) of
//   - the Subject (prefixed "subject:"),
//   - the From, To, Cc and Reply-To fields: the display names' words ("from:word") and each
//     address whole and its domain ("from:addr:a@b.example", "from:domain:b.example"),
//   - the text of every text/* part, its transfer encoding undone and its charset converted
//     (imap/message/message_text.hpp, the SEARCH text),
// each counted once per message, at most `max_tokens` of them (the first ones met), and
// hashed to 64 bits (FNV-1a; stored, so the function never changes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::filter {

inline constexpr std::size_t kMaxClassifierTokens = 1000;
// Only this much of a message's body text is read.
inline constexpr std::size_t kMaxClassifierText = 256 * 1024;

// The distinct tokens' texts, in the order first met (for tests and diagnostics).
std::vector<std::string> classifier_token_texts(std::string_view message,
                                                std::size_t max_tokens = kMaxClassifierTokens);

// Their hashes, as stored.
std::vector<std::uint64_t> classifier_tokens(std::string_view message, std::size_t max_tokens = kMaxClassifierTokens);

std::uint64_t token_hash(std::string_view token);

}  // namespace postamt::filter
