#include "auth/password_hash.hpp"

#include <crypt.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace postamt::auth {
namespace {

constexpr std::string_view kArgon2idPrefix = "{ARGON2ID}";

// OWASP Password Storage Cheat Sheet's first Argon2id configuration: m = 19 MiB, t = 2,
// p = 1 (libsodium always uses one lane). About a third of libsodium's INTERACTIVE limits
// (64 MiB, t = 2): a hash costs ~20-30 ms and 19 MiB on one core instead of ~100 ms and
// 64 MiB, still far beyond what a guesser with the stolen store wants to pay per try.
// The parameters travel in every encoded hash, so hashes written with other limits
// keep verifying.
constexpr unsigned long long kArgon2idPasses = 2;
constexpr std::size_t kArgon2idMemoryBytes = 19 * 1024 * 1024;

enum class Scheme { unknown, argon2id, sha512_crypt, bcrypt };

struct ParsedHash {
  Scheme scheme = Scheme::unknown;
  std::string_view hash;  // without the "{SCHEME}" prefix
};

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           const auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(a) == lower(b);
         });
}

Scheme scheme_of_body(std::string_view body) {
  if (body.starts_with("$argon2id$")) return Scheme::argon2id;
  if (body.starts_with("$6$")) return Scheme::sha512_crypt;
  // $2a$, $2b$ and $2y$ are the bcrypt variants libxcrypt verifies (Dovecot writes $2y$).
  if (body.starts_with("$2y$") || body.starts_with("$2b$") || body.starts_with("$2a$"))
    return Scheme::bcrypt;
  return Scheme::unknown;
}

// Dovecot writes the scheme in braces before the hash ("{SHA512-CRYPT}$6$..."); scheme
// names compare case-insensitively there. The prefix must agree with the hash's own form.
ParsedHash parse(std::string_view stored) {
  struct Prefix {
    std::string_view text;
    Scheme scheme;
  };
  static constexpr std::array<Prefix, 3> kPrefixes = {{
      {kArgon2idPrefix, Scheme::argon2id},
      {"{SHA512-CRYPT}", Scheme::sha512_crypt},
      {"{BLF-CRYPT}", Scheme::bcrypt},
  }};
  if (!stored.empty() && stored.front() == '{') {
    for (const Prefix& prefix : kPrefixes) {
      if (!istarts_with(stored, prefix.text)) continue;
      const std::string_view body = stored.substr(prefix.text.size());
      if (scheme_of_body(body) != prefix.scheme) return {};
      return {prefix.scheme, body};
    }
    return {};
  }
  return {scheme_of_body(stored), stored};
}

bool sodium_ready() {
  // sodium_init() is safe to call from several threads; the static makes it run once.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

bool verify_argon2id(std::string_view password, std::string_view hash) {
  if (!sodium_ready() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::array<char, crypto_pwhash_STRBYTES> str{};  // libsodium wants a NUL-terminated string
  std::ranges::copy(hash, str.begin());
  return crypto_pwhash_str_verify(str.data(), password.data(), password.size()) == 0;
}

bool verify_crypt(std::string_view password, std::string_view hash) {
  // crypt(3) takes C strings: a NUL inside either would silently shorten it.
  if (password.find('\0') != std::string_view::npos || hash.find('\0') != std::string_view::npos)
    return false;
  if (!sodium_ready()) return false;
  const std::string phrase(password);
  const std::string setting(hash);
  // struct crypt_data is about 32 KiB: too large for the stack of a pool thread.
  auto data = std::make_unique<crypt_data>();
  const char* result = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  bool match = false;
  if (result != nullptr && result[0] != '*') {
    const std::size_t length = std::strlen(result);
    match = length == hash.size() && sodium_memcmp(result, hash.data(), length) == 0;
  }
  sodium_memzero(data.get(), sizeof(crypt_data));  // holds derived key material
  return match;
}

}  // namespace

std::string hash_password(std::string_view password) {
  if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
  std::array<char, crypto_pwhash_STRBYTES> str{};
  if (crypto_pwhash_str_alg(str.data(), password.data(), password.size(),
                            kArgon2idPasses, kArgon2idMemoryBytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("Argon2id hashing failed (out of memory)");
  return std::string(kArgon2idPrefix) + str.data();
}

bool verify_password(std::string_view password, std::string_view stored) {
  if (password.empty()) return false;
  const ParsedHash parsed = parse(stored);
  switch (parsed.scheme) {
    case Scheme::argon2id:
      return verify_argon2id(password, parsed.hash);
    case Scheme::sha512_crypt:
    case Scheme::bcrypt:
      return verify_crypt(password, parsed.hash);
    case Scheme::unknown:
      break;
  }
  return false;
}

bool is_supported_hash(std::string_view stored) { return parse(stored).scheme != Scheme::unknown; }

bool needs_rehash(std::string_view stored) {
  const ParsedHash parsed = parse(stored);
  if (parsed.scheme != Scheme::argon2id || !sodium_ready()) return true;
  if (parsed.hash.size() >= crypto_pwhash_STRBYTES) return true;
  std::array<char, crypto_pwhash_STRBYTES> str{};
  std::ranges::copy(parsed.hash, str.begin());
  return crypto_pwhash_str_needs_rehash(str.data(), kArgon2idPasses, kArgon2idMemoryBytes) != 0;
}

}  // namespace postamt::auth
