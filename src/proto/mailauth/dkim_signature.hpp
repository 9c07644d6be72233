#pragma once
// The DKIM-Signature header field (RFC 6376 §3.5), parsed strictly. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::mailauth {

enum class DkimAlgorithm { rsa_sha256, ed25519_sha256, rsa_sha1 };
enum class DkimCanon { simple, relaxed };

std::string_view algorithm_name(DkimAlgorithm algorithm);  // "rsa-sha256", ...
std::string_view canon_name(DkimCanon canon);              // "simple", "relaxed"

struct DkimSignature {
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;  // a=
  std::string signature;                                // b=, decoded
  std::string b_text;                                   // b= as written, FWS removed
  std::string body_hash;                                // bh=, decoded
  DkimCanon header_canon = DkimCanon::simple;           // c= (default simple/simple)
  DkimCanon body_canon = DkimCanon::simple;
  std::string domain;                                   // d=, lower-cased
  std::vector<std::string> signed_headers;              // h=, in order, as written
  std::string identity;                                 // i= (default "@" + d=)
  std::optional<std::uint64_t> body_length;             // l=
  std::string selector;                                 // s=
  std::optional<std::uint64_t> timestamp;               // t=
  std::optional<std::uint64_t> expiration;              // x=
};

// Parses the value of a DKIM-Signature field (after the colon). An error is a PERMFAIL
// (RFC 6376 §6.1.1): unknown version, a required tag missing, a bad value, h= without
// From, i= outside d=, x= not after t=. rsa-sha1 is parsed (the caller refuses it,
// RFC 8301 §3.1); an unknown a= is an error.
Result<DkimSignature> parse_dkim_signature(std::string_view value);

// The field's raw text with the value of its b= tag removed ("b=" kept), as the signature
// itself is hashed (RFC 6376 §3.7). `raw_field` is the whole field, name included.
std::string without_b_value(std::string_view raw_field);

// Whether `identity`'s domain part equals `domain` or is a subdomain of it.
bool identity_within_domain(std::string_view identity, std::string_view domain);

// Parses an unsigned decimal (at most 20 digits, §3.5 allows up to 12 for t=/x=/l=
// but values are compared as 64-bit); nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(std::string_view text);

std::string to_lower_ascii(std::string_view text);

}  // namespace postamt::mailauth
