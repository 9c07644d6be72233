#pragma once
// The DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4), the TXT record at
// `selector._domainkey.domain`. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::mailauth {

enum class DkimKeyType { rsa, ed25519 };

struct DkimKeyRecord {
  DkimKeyType key_type = DkimKeyType::rsa;  // k= (default rsa)
  // p=, decoded: an RSA SubjectPublicKeyInfo or RSAPublicKey (DER), or the 32 raw octets
  // of an Ed25519 key. Empty: the key was revoked (§3.6.1).
  std::string public_key;
  bool revoked() const { return public_key.empty(); }
  std::vector<std::string> hash_algorithms;  // h=, lower-cased; empty: all allowed
  bool allows_sha256() const;
  bool email_service = true;                 // s= contains "email" or "*" (default *)
  bool testing = false;                      // t=y
  bool strict_identity = false;              // t=s: i= must not be a subdomain of d=
};

// Errors (a permerror for the signatures using it): v= present but not "DKIM1" or not
// first, no p=, bad base64, an unknown k=, a malformed tag list.
Result<DkimKeyRecord> parse_dkim_key_record(std::string_view text);

}  // namespace postamt::mailauth
