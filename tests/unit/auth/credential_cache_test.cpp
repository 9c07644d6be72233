#include "auth/credential_cache.hpp"

#include <gtest/gtest.h>

namespace postamt::auth {
namespace {

using namespace std::chrono_literals;
using Clock = CredentialCache::Clock;
const Clock::time_point kT0 = Clock::time_point{} + 1000h;

TEST(CredentialCache, HitsOnlyForTheSamePasswordAndStoredHashWithinTheTtl) {
  CredentialCache cache(300s, 100);
  const auto right = cache.digest("alice@example.test", "right");
  cache.remember("alice@example.test", right, "{ARGON2ID}hash-1", kT0);
  EXPECT_TRUE(cache.verified("alice@example.test", right, "{ARGON2ID}hash-1", kT0 + 299s));
  EXPECT_FALSE(cache.verified("alice@example.test", cache.digest("alice@example.test", "wrong"),
                              "{ARGON2ID}hash-1", kT0 + 1s));
  EXPECT_FALSE(cache.verified("bob@example.test", cache.digest("bob@example.test", "right"),
                              "{ARGON2ID}hash-1", kT0 + 1s));
  // The password was changed in the store: the old entry never counts again.
  EXPECT_FALSE(cache.verified("alice@example.test", right, "{ARGON2ID}hash-2", kT0 + 2s));
  EXPECT_FALSE(cache.verified("alice@example.test", right, "{ARGON2ID}hash-1", kT0 + 3s));
  cache.remember("alice@example.test", right, "{ARGON2ID}hash-1", kT0 + 10s);
  EXPECT_FALSE(cache.verified("alice@example.test", right, "{ARGON2ID}hash-1", kT0 + 310s)) << "expired";
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CredentialCache, DigestsAreKeyedPerProcessAndSeparateAccountFromPassword) {
  CredentialCache one(300s, 10);
  CredentialCache two(300s, 10);
  EXPECT_EQ(one.digest("a", "bc"), one.digest("a", "bc"));
  EXPECT_NE(one.digest("a", "bc"), two.digest("a", "bc")) << "a different secret";
  EXPECT_NE(one.digest("ab", "c"), one.digest("a", "bc"));
  EXPECT_NE(CredentialCache::fingerprint(one.digest("a", "x")), CredentialCache::fingerprint(one.digest("a", "y")));
}

TEST(CredentialCache, SizeIsBoundedOldestFirstAndZeroTtlDisablesIt) {
  CredentialCache cache(300s, 3);
  for (int i = 0; i < 10; ++i) {
    const std::string account = "u" + std::to_string(i);
    cache.remember(account, cache.digest(account, "pw"), "h", kT0 + std::chrono::seconds(i));
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.verified("u0", cache.digest("u0", "pw"), "h", kT0 + 10s));
  EXPECT_TRUE(cache.verified("u9", cache.digest("u9", "pw"), "h", kT0 + 10s));

  CredentialCache off(0s, 100);
  off.remember("a", off.digest("a", "pw"), "h", kT0);
  EXPECT_FALSE(off.verified("a", off.digest("a", "pw"), "h", kT0));
  EXPECT_EQ(off.size(), 0u);
}

}  // namespace
}  // namespace postamt::auth
