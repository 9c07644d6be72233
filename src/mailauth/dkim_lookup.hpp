#pragma once
// Drives a DkimVerifier's key questions over RecordLookup: every question asked at once,
// each answer fed as it comes. The verifier must have its header (header_complete());
// the body may still be streaming.
#include <asio/awaitable.hpp>

#include <vector>

#include "mailauth/dkim_verifier.hpp"
#include "mailauth/record_lookup.hpp"

namespace postamt::mailauth {

// Looks up every key the verifier asks for and feeds the answers. A lookup that throws
// counts as a timed-out answer (temperror).
asio::awaitable<void> look_up_dkim_keys(DkimVerifier& verifier, RecordLookup& lookup);

// The whole verification after the message was fed and finish()ed: keys, then results.
asio::awaitable<std::vector<DkimResult>> verify_dkim(DkimVerifier& verifier, RecordLookup& lookup);

}  // namespace postamt::mailauth
