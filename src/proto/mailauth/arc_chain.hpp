#pragma once
// ARC sets collected from a message head and checked for form (RFC 8617 §5.2 steps 1-4),
// and the input the ARC-Seal signatures hash (§5.1.1). The cryptographic checks are in
// mailauth/arc_verifier. Pure.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/arc_headers.hpp"
#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {

// One ARC set: the three fields of one instance (§4.2), raw and parsed.
struct ArcSet {
  HeaderField seal_field;
  HeaderField message_signature_field;
  HeaderField auth_results_field;
  ArcSeal seal;
  ArcMessageSignature message_signature;
  ArcAuthenticationResults auth_results;
};

struct ArcChain {
  // none: no ARC field at all; fail: the chain is malformed or its newest seal says
  // cv=fail (the reason says which); pass: well-formed, the signatures still to be checked.
  ArcChainStatus status = ArcChainStatus::none;
  std::string reason;
  std::vector<ArcSet> sets;  // sets[k] is instance k+1; filled only when status is pass
};

// Reads every ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results field of
// `fields` (which must outlive the result) and checks, in the order of §5.2: every field
// parses; each instance 1..N has exactly one field of each kind, N <= 50 (more are not
// parsed); the newest seal's cv is not fail; cv is none at i=1 and pass above.
ArcChain collect_arc_chain(const std::vector<HeaderField>& fields);

// The raw fields (name to last line end, as HeaderField::raw) of one set.
struct ArcSetText {
  std::string_view auth_results;
  std::string_view message_signature;
  std::string_view seal;
};

// §5.1.1 / §5.2 step 7: what an ARC-Seal signs: the sets in instance order, in each the
// AAR, the AMS and the AS, relaxed-canonicalised; the last set's AS with its b= value
// emptied and without the final CRLF (as DKIM hashes its own signature, RFC 6376 §3.7).
void write_seal_hash_input(std::span<const ArcSetText> sets, HashSink& sink);

// The text of the chain's sets 1..`instance`.
std::vector<ArcSetText> arc_set_texts(const ArcChain& chain, std::uint32_t instance);

bool is_arc_field_name(std::string_view name);

// What a sealer needs of a chain even when it is malformed (RFC 8617 §5.1.2): the highest
// instance among the ARC fields whose i= reads (0: none), and whether an ARC-Seal of that
// instance says cv=fail (then no set may be added).
struct ArcChainTop {
  std::uint32_t highest_instance = 0;
  bool newest_seal_failed = false;
};
ArcChainTop find_arc_chain_top(const std::vector<HeaderField>& fields);

}  // namespace postamt::mailauth
