#pragma once
// DkimSigner: signs messages with every active key of their author domain (RFC 6376 §5,
// RFC 8463): relaxed/relaxed, SHA-256, no l=, t= set, the fields of kSignedFields that
// are present signed, From and Subject over-signed (listed once more than present, so
// that none can be added, §8.15). One body hash serves every key. Thread-safe after
// construction (the keys are read-only; reload builds a new signer).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "mailauth/dkim_crypto.hpp"

namespace postamt::mailauth {

inline constexpr std::string_view kSignedFields[] = {
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding"};

struct DkimSigningKey {
  std::string selector;
  DkimPrivateKey key;
};

class DkimSigner {
 public:
  // `domain` lower-case; a domain may have several keys (RSA and Ed25519, rotation).
  void add_key(std::string domain, std::string selector, DkimPrivateKey key);
  bool signs_for(std::string_view domain) const;
  std::size_t key_count() const;

  // The DKIM-Signature fields (each ending in CRLF) to add at the top of `message`'s
  // header, one per key of `domain` (lower-case); "" when the domain has no key.
  // `message` is the whole message (header and body); it is read, not copied. Errors:
  // a header that does not end within the head limit, a signing failure.
  Result<std::string> sign(std::string_view message, std::string_view domain, std::uint64_t now) const;

 private:
  std::map<std::string, std::vector<DkimSigningKey>, std::less<>> keys_;
};

// The lower-cased domain of `address` ("local@domain"), "" without one.
std::string domain_of_address(std::string_view address);

}  // namespace postamt::mailauth
