#pragma once
// The three ARC header fields (RFC 8617 §4.1), parsed strictly. Pure.
//   ARC-Seal (AS):                     i, a, b, cv, d, s, t; h= is forbidden (§4.1.3)
//   ARC-Message-Signature (AMS):       DKIM-Signature syntax (RFC 6376 §3.5) with i= the
//                                      instance and no v= (§4.1.2)
//   ARC-Authentication-Results (AAR):  "i=" instance ";" then an RFC 8601 payload (§4.1.1)
// Every parser takes the field's value (after the colon).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "proto/mailauth/dkim_signature.hpp"

namespace postamt::mailauth {

// §4.2.1: instances run from 1 to 50.
inline constexpr std::uint32_t kMaxArcInstance = 50;

// §4.1.3 chain validation status: the cv= of an AS, and the verdict of a chain.
enum class ArcChainStatus { none, pass, fail };
std::string_view arc_status_name(ArcChainStatus status);  // "none", "pass", "fail"

struct ArcSeal {
  std::uint32_t instance = 0;                           // i=
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;  // a= (rsa-sha256 or ed25519-sha256)
  std::string signature;                                // b=, decoded
  ArcChainStatus chain_status = ArcChainStatus::none;   // cv=
  std::string domain;                                   // d=, lower-cased
  std::string selector;                                 // s=, lower-cased
  std::optional<std::uint64_t> timestamp;               // t=
};

struct ArcMessageSignature {
  std::uint32_t instance = 0;                           // i=
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;  // a=
  std::string signature;                                // b=, decoded
  std::string body_hash;                                // bh=, decoded
  // c=; without it relaxed/relaxed, not DKIM's simple/simple: what the ARC test suite
  // (ams_fields_c_na) and dkimpy's ARC code take, so chains they accept verify here too.
  DkimCanon header_canon = DkimCanon::relaxed;
  DkimCanon body_canon = DkimCanon::relaxed;
  std::string domain;                                   // d=, lower-cased
  // h=, in order, as written. May be empty and may hold empty names (they select
  // nothing); unlike DKIM, From is not required. ARC-Seal must not be listed (§4.1.2).
  std::vector<std::string> signed_headers;
  std::optional<std::uint64_t> body_length;             // l=
  std::string selector;                                 // s=, lower-cased
  std::optional<std::uint64_t> timestamp;               // t=
};

struct ArcAuthenticationResults {
  std::uint32_t instance = 0;
  std::string_view payload;  // the RFC 8601 authres-payload after "i=N;", FWS trimmed
};

// Errors are permanent: the set they belong to is malformed, so the chain fails.
// rsa-sha1 is refused (RFC 8301 §3.1), so are unknown algorithms and tags whose
// values do not parse; unknown tags are ignored (RFC 6376 §3.2).
Result<ArcSeal> parse_arc_seal(std::string_view value);
Result<ArcMessageSignature> parse_arc_message_signature(std::string_view value);
// The instance tag must come first, with its semicolon (§4.1.1: "i=" 1*2DIGIT ";").
Result<ArcAuthenticationResults> parse_arc_authentication_results(std::string_view value);

// An instance value: 1*2DIGIT (§4.2.1) between 1 and kMaxArcInstance; nullopt otherwise.
std::optional<std::uint32_t> parse_arc_instance(std::string_view text);

// Whether `name` is a domain name as d= needs it: dot-separated labels of letters,
// digits, "-" and "_", each 1..63 octets, 253 at most.
bool is_arc_domain_name(std::string_view name);

}  // namespace postamt::mailauth
