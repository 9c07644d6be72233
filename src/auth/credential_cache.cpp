#include "auth/credential_cache.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace postamt::auth {

CredentialCache::CredentialCache(Clock::duration ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(ttl > Clock::duration{} ? max_entries : 0) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  static_assert(sizeof secret_ >= crypto_generichash_KEYBYTES_MIN);
  randombytes_buf(secret_.data(), secret_.size());
}

CredentialCache::Digest CredentialCache::digest(std::string_view account, std::string_view password) const {
  // The account's length first, so that ("ab", "c") and ("a", "bc") never collide.
  const std::uint64_t account_length = account.size();
  crypto_generichash_state state;
  crypto_generichash_init(&state, secret_.data(), secret_.size(), kDigestBytes);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&account_length),
                            sizeof account_length);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(account.data()), account.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(password.data()), password.size());
  Digest result{};
  crypto_generichash_final(&state, result.data(), result.size());
  return result;
}

Fingerprint CredentialCache::fingerprint(const Digest& digest) {
  Fingerprint value = 0;
  std::memcpy(&value, digest.data(), sizeof value);
  return value;
}

std::string CredentialCache::key_of(std::string_view account, const Digest& digest) {
  std::string key(account);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return key;
}

bool CredentialCache::verified(std::string_view account, const Digest& digest, std::string_view stored_hash,
                               Clock::time_point now) {
  if (max_entries_ == 0) return false;
  const std::string key = key_of(account, digest);
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (now >= it->second.expires || it->second.stored_hash != stored_hash) {
    // Expired, or the password changed since: this entry will never count again.
    oldest_first_.erase(it->second.age);
    entries_.erase(it);
    return false;
  }
  return true;
}

void CredentialCache::remember(std::string_view account, const Digest& digest, std::string_view stored_hash,
                               Clock::time_point now) {
  if (max_entries_ == 0) return;
  std::string key = key_of(account, digest);
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    oldest_first_.erase(it->second.age);
    entries_.erase(it);
  }
  while (entries_.size() >= max_entries_) {
    entries_.erase(oldest_first_.front());
    oldest_first_.pop_front();
  }
  oldest_first_.push_back(key);
  entries_.emplace(std::move(key), Entry{std::string(stored_hash), now + ttl_, std::prev(oldest_first_.end())});
}

std::size_t CredentialCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace postamt::auth
