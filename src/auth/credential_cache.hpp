#pragma once
// CredentialCache: passwords verified recently, so that a phone opening its tenth IMAP
// connection does not pay Argon2id again (as Dovecot's auth cache). An entry is keyed by the
// account and a keyed BLAKE2b hash (libsodium crypto_generichash) of the presented password
// under a secret drawn at process start: the cache never holds a password, and its keys are
// worthless outside this process.
//
// A hit counts only while the account's stored hash is the one the password was verified
// against: the caller reads the account row (a cheap indexed read it does anyway) and passes
// its hash, so `postamt user passwd` or `user del` in another process takes effect at the
// next login. Entries live `ttl`; at most `max_entries`, the oldest going first.
// Thread-safe; no clock of its own.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/failure_table.hpp"

namespace postamt::auth {

class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kDigestBytes = 32;
  using Digest = std::array<unsigned char, kDigestBytes>;

  // ttl zero (or max_entries zero) turns the cache off; digests still work.
  CredentialCache(Clock::duration ttl, std::size_t max_entries);

  // The keyed hash of (account, password): the cache key, and the throttle's fingerprint.
  Digest digest(std::string_view account, std::string_view password) const;
  static Fingerprint fingerprint(const Digest& digest);

  // Whether `password` was verified for `account` against `stored_hash` within the ttl.
  bool verified(std::string_view account, const Digest& digest, std::string_view stored_hash,
                Clock::time_point now);
  void remember(std::string_view account, const Digest& digest, std::string_view stored_hash,
                Clock::time_point now);
  std::size_t size() const;

 private:
  struct Entry {
    std::string stored_hash;
    Clock::time_point expires;
    std::list<std::string>::iterator age;  // position in oldest_first_
  };

  static std::string key_of(std::string_view account, const Digest& digest);

  const Clock::duration ttl_;
  const std::size_t max_entries_;
  std::array<unsigned char, 32> secret_{};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> oldest_first_;  // keys in insertion order (one ttl for all)
};

}  // namespace postamt::auth
