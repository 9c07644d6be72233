#include "auth/password_hash.hpp"

#include <crypt.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <memory>

namespace postamt::auth {
namespace {

// Computed with Python's crypt module (libxcrypt): crypt.crypt("secret", salt).
constexpr std::string_view kSha512Secret =
    "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
    "H91p5hVO1";
constexpr std::string_view kBcryptSecret =
    "$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a";

// A fresh crypt(3) hash of `password` with a random salt of the given prefix.
std::string crypt_hash(const char* prefix, unsigned long cost, const std::string& password) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> salt{};
  if (crypt_gensalt_rn(prefix, cost, nullptr, 0, salt.data(), static_cast<int>(salt.size())) ==
      nullptr) {
    ADD_FAILURE() << "crypt_gensalt_rn failed for " << prefix;
    return {};
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), salt.data(), data.get(), sizeof(crypt_data));
  if (hash == nullptr || hash[0] == '*') {
    ADD_FAILURE() << "crypt_rn failed for " << prefix;
    return {};
  }
  return hash;
}

TEST(PasswordHash, Argon2idRoundTrip) {
  const std::string hash = hash_password("correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("{ARGON2ID}$argon2id$v=19$")) << hash;
  EXPECT_TRUE(verify_password("correct horse battery staple", hash));
  EXPECT_FALSE(verify_password("correct horse battery stapl", hash));
  EXPECT_FALSE(verify_password("Correct horse battery staple", hash));
  EXPECT_TRUE(is_supported_hash(hash));
  EXPECT_FALSE(needs_rehash(hash));
  // The bare libsodium form (without the Dovecot-style scheme prefix) verifies too.
  const std::string bare = hash.substr(std::string_view("{ARGON2ID}").size());
  EXPECT_TRUE(verify_password("correct horse battery staple", bare));
  EXPECT_TRUE(verify_password("correct horse battery staple", "{argon2id}" + bare))
      << "scheme names compare case-insensitively";
}

TEST(PasswordHash, SaltMakesEveryHashDifferent) {
  EXPECT_NE(hash_password("same"), hash_password("same"));
}

TEST(PasswordHash, Argon2idPasswordsAreBinarySafe) {
  const std::string password("a\0b", 3);
  const std::string hash = hash_password(password);
  EXPECT_TRUE(verify_password(password, hash));
  EXPECT_FALSE(verify_password("a", hash));
  EXPECT_TRUE(verify_password("p\xc3\xa4sswort", hash_password("p\xc3\xa4sswort")));
}

TEST(PasswordHash, EmptyPasswordNeverVerifies) {
  const std::string hash = hash_password("");
  EXPECT_TRUE(is_supported_hash(hash));
  EXPECT_FALSE(verify_password("", hash));
  EXPECT_FALSE(verify_password("", kSha512Secret));
  EXPECT_FALSE(verify_password("", ""));
}

TEST(PasswordHash, Sha512CryptFixedVector) {
  EXPECT_TRUE(verify_password("secret", kSha512Secret));
  EXPECT_TRUE(verify_password("secret", "{SHA512-CRYPT}" + std::string(kSha512Secret)));
  EXPECT_TRUE(verify_password("secret", "{sha512-crypt}" + std::string(kSha512Secret)));
  EXPECT_FALSE(verify_password("Secret", kSha512Secret));
  EXPECT_FALSE(verify_password("secret ", "{SHA512-CRYPT}" + std::string(kSha512Secret)));
  // A tampered hash: same salt, one character of the digest changed.
  std::string tampered(kSha512Secret);
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_password("secret", tampered));
  EXPECT_FALSE(verify_password("secret", kSha512Secret.substr(0, kSha512Secret.size() - 1)));
  EXPECT_TRUE(needs_rehash(kSha512Secret));
}

TEST(PasswordHash, BcryptFixedVector) {
  EXPECT_TRUE(verify_password("secret", kBcryptSecret));
  EXPECT_TRUE(verify_password("secret", "{BLF-CRYPT}" + std::string(kBcryptSecret)));
  EXPECT_FALSE(verify_password("secreT", "{BLF-CRYPT}" + std::string(kBcryptSecret)));
  EXPECT_TRUE(needs_rehash("{BLF-CRYPT}" + std::string(kBcryptSecret)));
}

TEST(PasswordHash, GeneratedCryptHashes) {
  const std::string sha512 = crypt_hash("$6$", 5000, "hunter2");
  ASSERT_TRUE(sha512.starts_with("$6$"));
  EXPECT_TRUE(verify_password("hunter2", "{SHA512-CRYPT}" + sha512));
  EXPECT_FALSE(verify_password("hunter3", "{SHA512-CRYPT}" + sha512));

  for (const char* prefix : {"$2y$", "$2b$"}) {
    const std::string bcrypt = crypt_hash(prefix, 4, "hunter2");
    ASSERT_TRUE(bcrypt.starts_with(prefix)) << bcrypt;
    EXPECT_TRUE(verify_password("hunter2", bcrypt)) << bcrypt;
    EXPECT_TRUE(verify_password("hunter2", "{BLF-CRYPT}" + bcrypt)) << bcrypt;
    EXPECT_FALSE(verify_password("hunter", "{BLF-CRYPT}" + bcrypt)) << bcrypt;
  }
}

TEST(PasswordHash, NulInPasswordFailsForCryptSchemes) {
  // crypt(3) would see only "secret" and accept it; the NUL must not be dropped silently.
  EXPECT_FALSE(verify_password(std::string_view("secret\0extra", 12), kSha512Secret));
  EXPECT_FALSE(verify_password(std::string_view("secret\0extra", 12), kBcryptSecret));
}

TEST(PasswordHash, UnknownOrMismatchedSchemesAreRefused) {
  const std::string md5 = crypt_hash("$1$", 0, "secret");
  ASSERT_TRUE(md5.starts_with("$1$"));
  for (const std::string& stored :
       {std::string(), std::string("*"), std::string("!"), std::string("secret"),
        std::string("{PLAIN}secret"), std::string("{CRYPT}") + std::string(kSha512Secret),
        "{MD5-CRYPT}" + md5, md5, "{SHA512-CRYPT}" + std::string(kBcryptSecret),
        "{BLF-CRYPT}" + std::string(kSha512Secret), std::string("{ARGON2ID}"),
        std::string("{ARGON2ID}$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA"),
        std::string("{ARGON2ID}$argon2id$garbage"), std::string("$argon2id$"),
        std::string("{SHA512-CRYPT}"), std::string("$6$"), std::string(200, '$')}) {
    EXPECT_FALSE(verify_password("secret", stored)) << stored;
  }
  EXPECT_FALSE(is_supported_hash(""));
  EXPECT_FALSE(is_supported_hash("{PLAIN}secret"));
  EXPECT_FALSE(is_supported_hash(md5));
  EXPECT_FALSE(is_supported_hash("{SHA512-CRYPT}" + std::string(kBcryptSecret)));
  EXPECT_TRUE(is_supported_hash(kSha512Secret));
  EXPECT_TRUE(is_supported_hash("{BLF-CRYPT}" + std::string(kBcryptSecret)));
  EXPECT_TRUE(needs_rehash("{PLAIN}secret"));
}

TEST(PasswordHash, NewHashesUseOwaspCostAndOlderCostsKeepVerifying) {
  const std::string hash = hash_password("pw");
  EXPECT_NE(hash.find("$m=19456,t=2,p=1$"), std::string::npos) << hash;
  // Hashes written before with libsodium's INTERACTIVE limits (64 MiB) still log in.
  ASSERT_GE(sodium_init(), 0);
  std::array<char, crypto_pwhash_STRBYTES> older{};
  ASSERT_EQ(crypto_pwhash_str_alg(older.data(), "pw", 2, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13),
            0);
  EXPECT_NE(std::string_view(older.data()).find("$m=65536,t=2,p=1$"), std::string_view::npos);
  EXPECT_TRUE(verify_password("pw", std::string("{ARGON2ID}") + older.data()));
  EXPECT_FALSE(verify_password("px", std::string("{ARGON2ID}") + older.data()));
}

TEST(PasswordHash, WeakArgon2idNeedsRehash) {
  ASSERT_GE(sodium_init(), 0);
  std::array<char, crypto_pwhash_STRBYTES> weak{};
  ASSERT_EQ(
      crypto_pwhash_str_alg(weak.data(), "pw", 2, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                            crypto_pwhash_argon2id_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
      0);
  EXPECT_TRUE(verify_password("pw", weak.data()));
  EXPECT_TRUE(needs_rehash(std::string("{ARGON2ID}") + weak.data()));
}

}  // namespace
}  // namespace postamt::auth
