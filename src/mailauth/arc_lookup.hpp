#pragma once
// Drives an ArcVerifier's key questions over RecordLookup: every question asked at once,
// each answer fed as it comes (a lookup that throws counts as a timeout).
#include <asio/awaitable.hpp>

#include "mailauth/arc_verifier.hpp"
#include "mailauth/record_lookup.hpp"

namespace postamt::mailauth {

// Looks up every key the verifier asks for; the verifier must have its header.
asio::awaitable<void> look_up_arc_keys(ArcVerifier& verifier, RecordLookup& lookup);

// The whole validation after the message was fed and finish()ed: keys, then the verdict.
asio::awaitable<ArcVerdict> verify_arc(ArcVerifier& verifier, RecordLookup& lookup);

}  // namespace postamt::mailauth
