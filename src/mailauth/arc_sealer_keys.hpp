#pragma once
// Which key seals: the forwarding domain's DKIM key from the key store (no ARC-specific
// key or DNS record). Blocking file I/O: at start-up and at SIGHUP, like the DKIM signer.
#include <optional>
#include <string>

#include "base/result.hpp"
#include "mailauth/arc_sealer.hpp"
#include "mailauth/dkim_key_store.hpp"

namespace postamt::mailauth {

// The sealer of `domain` (lower-case) with its newest active RSA key: ARC receivers
// verify RSA (RFC 8617 §4.1 follows DKIM's algorithms, and Ed25519 support among them is
// rare), so an Ed25519 key is used only when the domain has no active RSA key. nullopt
// when the domain has no active key at all.
Result<std::optional<ArcSealer>> load_arc_sealer(const DkimKeyStore& store, const std::string& domain);

}  // namespace postamt::mailauth
