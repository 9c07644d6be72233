#pragma once
// Writes the DKIM-Signature header field a signer adds (RFC 6376 §3.5, §5.6): folded
// lines of at most ~78 columns, CRLF line breaks, the b= tag last. Signing hashes the
// field built with an empty b= (§3.7), then builds it again with the signature: the
// fold before "b=" does not depend on the signature, so both hash alike once the
// verifier empties b=. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/mailauth/dkim_signature.hpp"

namespace postamt::mailauth {

struct DkimSignatureFields {
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  DkimCanon header_canon = DkimCanon::relaxed;
  DkimCanon body_canon = DkimCanon::relaxed;
  std::string domain;                       // d=
  std::string selector;                     // s=
  std::vector<std::string> signed_headers;  // h=
  std::string body_hash_base64;             // bh=
  std::optional<std::uint64_t> timestamp;   // t=
  std::optional<std::uint64_t> expiration;  // x=
  std::optional<std::uint64_t> body_length; // l=
  std::string identity;                     // i=, omitted when empty
};

// "DKIM-Signature: v=1; a=…; …; b=<signature>" without the final CRLF.
std::string build_dkim_signature_field(const DkimSignatureFields& fields, std::string_view signature_base64 = {});

}  // namespace postamt::mailauth
