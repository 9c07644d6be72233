#pragma once
// Writes the three header fields of a new ARC set (RFC 8617 §4.1, §5.1): folded lines,
// CRLF line breaks, no final CRLF. Tags are written in alphabetical order, b= second on a
// line of its own and not folded inside (a 2048-bit RSA signature makes a line of ~350
// octets, within RFC 5322's 998). This is the layout of the ARC test suite's reference
// signer, and our seals reproduce its expected values: the seal covers the AMS as relaxed
// canonicalisation sees it, where a fold inside b= would become a space, so the layout is
// part of what is signed. Pure.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/arc_headers.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {

struct ArcSealFields {
  std::uint32_t instance = 1;
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  ArcChainStatus chain_status = ArcChainStatus::none;
  std::string domain;
  std::string selector;
  std::uint64_t timestamp = 0;
};

// c= is always relaxed/relaxed.
struct ArcMessageSignatureFields {
  std::uint32_t instance = 1;
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  std::string domain;
  std::string selector;
  std::uint64_t timestamp = 0;
  std::vector<std::string> signed_headers;  // h=
  std::string body_hash_base64;             // bh=
};

// "ARC-Seal: a=…; b=<signature>; cv=…; d=…; i=…; s=…; t=…" (b= empty while hashing).
std::string build_arc_seal_field(const ArcSealFields& fields, std::string_view signature_base64 = {});
// "ARC-Message-Signature: a=…; b=…; bh=…; c=relaxed/relaxed; d=…; h=…; i=…; s=…; t=…".
std::string build_arc_message_signature_field(const ArcMessageSignatureFields& fields,
                                              std::string_view signature_base64 = {});
// "ARC-Authentication-Results: i=N; <payload>"; `payload` is an RFC 8601 authres-payload
// ("authserv-id; method=result …"), folded as given.
std::string build_arc_authentication_results_field(std::uint32_t instance, std::string_view payload);

// The Authentication-Results fields of `fields` whose authserv-id is `authserv_id`
// merged into one payload: "authserv-id; result;\r\n  result…" (the results of every
// such field, in order, split at the semicolons outside comments and quoted strings).
// "" when there is none. For a relay that finds its verdict in the message (the CLI).
std::string merged_auth_results(const std::vector<HeaderField>& fields, std::string_view authserv_id);

}  // namespace postamt::mailauth
