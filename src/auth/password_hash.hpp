#pragma once
// Password hashing for stored credentials. New hashes are Argon2id (libsodium) written as
// "{ARGON2ID}$argon2id$...". Verification also accepts hashes imported from Dovecot:
// "{SHA512-CRYPT}$6$..." and "{BLF-CRYPT}$2y$..." (checked with libxcrypt), with or without
// the scheme prefix. Hashing and verification are deliberately slow: call them on the
// blocking pool, never on an I/O thread.
#include <string>
#include <string_view>

namespace postamt::auth {

// Argon2id with OWASP's minimum cost (m = 19 MiB, t = 2, p = 1; see docs/OPERATIONS.md). Throws
// std::runtime_error only when libsodium cannot start or cannot get the memory.
// An empty password is hashed, but verify_password never accepts an empty password, so the
// caller (the CLI) should refuse it up front.
std::string hash_password(std::string_view password);

// true when `password` matches `stored`. false for a wrong password, an empty password,
// a password containing NUL for the crypt(3) schemes, and any unsupported or malformed
// `stored` value. Comparisons of crypt(3) results are constant-time.
bool verify_password(std::string_view password, std::string_view stored);

// Whether `stored` names a scheme verify_password understands (a syntactic check).
bool is_supported_hash(std::string_view stored);

// Whether a successful login should replace `stored` with hash_password(): true for
// imported schemes and for Argon2id hashes with other than the current limits.
bool needs_rehash(std::string_view stored);

}  // namespace postamt::auth
