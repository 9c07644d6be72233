#pragma once
// ArcSealer: adds Postamt's ARC set to a message it forwards (RFC 8617 §5.1), with the
// key of one domain: ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results with
// i = N+1, to be prepended to the header in that order. Verify first (ANCHORS §1): the
// chain's verdict comes from ArcVerifier on the same message, and is the new cv.
// Thread-safe after construction (the key is read-only).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "mailauth/arc_verifier.hpp"
#include "mailauth/dkim_crypto.hpp"

namespace postamt::mailauth {

// The fields the AMS signs when present (lower-cased into h=), besides nothing else:
// ARC-Seal must never be, Authentication-Results and Received change on the way.
inline constexpr std::string_view kArcSignedFields[] = {
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "In-Reply-To", "References", "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding", "DKIM-Signature", "List-Id", "List-Unsubscribe"};

struct ArcSealedSet {
  std::uint32_t instance = 0;
  ArcChainStatus chain_status = ArcChainStatus::none;  // the cv= written
  std::string seal;                // "ARC-Seal: …" without the final CRLF
  std::string message_signature;   // "ARC-Message-Signature: …"
  std::string auth_results;        // "ARC-Authentication-Results: …"
  // The three fields, each ending in CRLF, in the order to prepend to the message.
  std::string header_text() const { return seal + "\r\n" + message_signature + "\r\n" + auth_results + "\r\n"; }
};

struct ArcSealInput {
  std::string_view message;               // the whole message as it will be forwarded
  // Our A-R payload: "authserv-id; spf=… dkim=… arc=…" (what follows
  // "Authentication-Results:"); line breaks only as folds (CRLF WSP).
  std::string_view auth_results_payload;
  const ArcVerdict* chain = nullptr;      // ArcVerifier's verdict on `message` (required)
  std::uint64_t now = 0;                  // t= (Unix seconds)
  // h= of the AMS; empty: the kArcSignedFields present in the message.
  std::vector<std::string> signed_headers;
};

class ArcSealer {
 public:
  // `domain` and `selector` name the key record `selector._domainkey.domain`.
  ArcSealer(std::string domain, std::string selector, DkimPrivateKey key);

  // The new set, or nullopt when no set may be added: the newest seal says cv=fail
  // (§5.1.2), or the chain has 50 sets already. Errors: no verdict, a verdict that does not
  // fit the message (pass for a message without a chain), an empty payload or one with a
  // line break that is not a fold, h= naming ARC-Seal, a signing failure.
  Result<std::optional<ArcSealedSet>> seal(const ArcSealInput& input) const;

  const std::string& domain() const { return domain_; }
  const std::string& selector() const { return selector_; }

 private:
  std::string domain_;
  std::string selector_;
  DkimPrivateKey key_;
};

}  // namespace postamt::mailauth
