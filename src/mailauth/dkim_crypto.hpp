#pragma once
// The public-key operations of DKIM on OpenSSL 3 (kept out of this header): RSA with
// SHA-256 (RFC 6376 §3.3.1) and Ed25519 over the SHA-256 of the canonical header
// (RFC 8463 §3). Both sign or verify the header *digest*.
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "proto/mailauth/dkim_key_record.hpp"
#include "proto/mailauth/dkim_signature.hpp"

struct evp_pkey_st;

namespace postamt::mailauth {

// RFC 8301 §3.2: verifiers must not accept RSA keys shorter than 1024 bits.
inline constexpr int kMinimumRsaBits = 1024;
inline constexpr int kSigningRsaBits = 2048;

class DkimPrivateKey {
 public:
  static Result<DkimPrivateKey> generate(DkimKeyType type);
  static Result<DkimPrivateKey> from_pem(std::string_view pem);
  ~DkimPrivateKey();
  DkimPrivateKey(DkimPrivateKey&&) noexcept;
  DkimPrivateKey& operator=(DkimPrivateKey&&) noexcept;

  DkimKeyType type() const { return type_; }
  DkimAlgorithm algorithm() const {
    return type_ == DkimKeyType::rsa ? DkimAlgorithm::rsa_sha256 : DkimAlgorithm::ed25519_sha256;
  }
  std::string private_pem() const;  // PKCS#8 PEM
  // The p= value of the key record (base64): RSA SubjectPublicKeyInfo DER, Ed25519 the
  // raw 32 octets (RFC 8463 §4.2).
  std::string public_key_base64() const;
  // The key record to publish: "v=DKIM1; k=rsa; p=…".
  std::string key_record() const;
  // The signature over the SHA-256 `header_digest`.
  Result<std::string> sign_digest(std::string_view header_digest) const;

 private:
  struct Free {
    void operator()(evp_pkey_st* key) const;
  };
  DkimPrivateKey(std::unique_ptr<evp_pkey_st, Free> key, DkimKeyType type) : key_(std::move(key)), type_(type) {}
  std::unique_ptr<evp_pkey_st, Free> key_;
  DkimKeyType type_;
};

enum class DkimVerifyOutcome {
  valid,
  bad_signature,  // fail
  bad_key,        // permerror: p= is not a key of its k=
  weak_key,       // permerror: RSA under kMinimumRsaBits (RFC 8301 §3.2)
};

DkimVerifyOutcome verify_dkim_digest(DkimKeyType type, std::string_view public_key, std::string_view header_digest,
                                     std::string_view signature);

}  // namespace postamt::mailauth
