#include "auth/auth_throttle.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "auth/failure_table.hpp"

namespace postamt::auth {
namespace {

using namespace std::chrono_literals;
using Clock = AuthThrottle::Clock;

// A fixed origin: the throttle never reads a clock of its own.
const Clock::time_point kT0 = Clock::time_point{} + 1000h;

ThrottlePolicy policy(unsigned max_failures, Clock::duration lockout) {
  ThrottlePolicy p;
  p.max_failures_per_source = max_failures;
  p.lockout = lockout;
  return p;
}

// --- FailureTable

TEST(FailureTable, LocksAfterDistinctFailuresWithinTheWindow) {
  FailureTable table(3, 300s, 100);
  EXPECT_EQ(table.record_failure("k", 1, kT0), 1u);
  EXPECT_EQ(table.record_failure("k", 2, kT0 + 10s), 2u);
  EXPECT_FALSE(table.is_locked("k", kT0 + 10s));
  table.record_failure("k", 3, kT0 + 20s);
  EXPECT_TRUE(table.is_locked("k", kT0 + 20s));
  EXPECT_TRUE(table.is_locked("k", kT0 + 20s + 299s));
  EXPECT_FALSE(table.is_locked("k", kT0 + 20s + 300s)) << "the lock passes";
  EXPECT_FALSE(table.is_locked("other", kT0 + 20s));
}

TEST(FailureTable, ARepeatedWrongPasswordCountsOnce) {
  FailureTable table(3, 300s, 100);
  for (int i = 0; i < 50; ++i) table.record_failure("office-nat", 42, kT0 + std::chrono::seconds(i));
  EXPECT_EQ(table.failures("office-nat", kT0 + 50s), 1u) << "a stale phone retrying one old password";
  EXPECT_FALSE(table.is_locked("office-nat", kT0 + 50s));
  table.record_failure("office-nat", 7, kT0 + 51s);
  table.record_failure("office-nat", 8, kT0 + 52s);
  EXPECT_TRUE(table.is_locked("office-nat", kT0 + 52s)) << "three different passwords";
}

TEST(FailureTable, FailuresOutsideTheWindowDoNotAddUp) {
  FailureTable table(3, 60s, 100);
  table.record_failure("k", 1, kT0);
  table.record_failure("k", 2, kT0 + 30s);
  table.record_failure("k", 3, kT0 + 61s);  // the window restarted here
  EXPECT_FALSE(table.is_locked("k", kT0 + 61s));
  EXPECT_EQ(table.failures("k", kT0 + 61s), 1u);
}

TEST(FailureTable, LockedKeysAreNeverEvictedUnderPressure) {
  FailureTable table(2, 60s, 3);
  table.record_failure("a", 1, kT0);
  table.record_failure("a", 2, kT0);  // "a" locked
  table.record_failure("b", 1, kT0 + 1s);
  table.record_failure("c", 1, kT0 + 2s);
  table.record_failure("d", 1, kT0 + 3s);  // full: evicts "b", the oldest unlocked
  EXPECT_EQ(table.size(), 3u);
  EXPECT_TRUE(table.is_locked("a", kT0 + 3s));
  EXPECT_EQ(table.failures("b", kT0 + 3s), 0u);
  EXPECT_EQ(table.failures("c", kT0 + 3s), 1u);
  // Everything locked: a new key is not tracked, and nothing locked is dropped.
  table.record_failure("c", 2, kT0 + 4s);
  table.record_failure("d", 2, kT0 + 4s);
  EXPECT_EQ(table.record_failure("e", 1, kT0 + 5s), 0u);
  EXPECT_EQ(table.size(), 3u);
  for (const char* key : {"a", "c", "d"}) EXPECT_TRUE(table.is_locked(key, kT0 + 5s)) << key;
  // Once the locks expire there is room again.
  EXPECT_EQ(table.record_failure("e", 1, kT0 + 70s), 1u);

  FailureTable big(5, 60s, 1000);
  for (int i = 0; i < 5000; ++i) big.record_failure("ip" + std::to_string(i), 1, kT0);
  EXPECT_EQ(big.size(), 1000u);
}

TEST(FailureTable, PruneForgetsWhatExpired) {
  FailureTable table(2, 60s, 100);
  table.record_failure("old", 1, kT0);
  table.record_failure("locked", 1, kT0 + 30s);
  table.record_failure("locked", 2, kT0 + 31s);
  table.record_failure("recent", 1, kT0 + 50s);
  table.prune(kT0 + 70s);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_TRUE(table.is_locked("locked", kT0 + 70s));
  table.prune(kT0 + 200s);
  EXPECT_EQ(table.size(), 0u);
}

// --- AuthThrottle

TEST(AuthThrottle, LocksOneAddressNotItsNeighbour) {
  AuthThrottle throttle(policy(3, 300s));
  for (Fingerprint f = 1; f <= 3; ++f) throttle.record_failure("127.0.0.7", "", f, kT0);
  EXPECT_TRUE(throttle.is_locked_out("127.0.0.7", kT0 + 1s));
  EXPECT_FALSE(throttle.is_locked_out("127.0.0.8", kT0 + 1s));
  EXPECT_TRUE(throttle.is_locked_out("::ffff:127.0.0.7", kT0 + 1s)) << "IPv4-mapped is the same address";
}

TEST(AuthThrottle, IPv6IsCountedPerNetworkOfTheConfiguredPrefix) {
  AuthThrottle throttle(policy(3, 300s));
  EXPECT_EQ(throttle.source_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttle.source_key("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(throttle.source_key("::ffff:192.0.2.1"), "192.0.2.1");
  // Three addresses of one /64 add up.
  throttle.record_failure("2001:db8:1:2::1", "", 1, kT0);
  throttle.record_failure("2001:db8:1:2::2", "", 2, kT0);
  throttle.record_failure("2001:db8:1:2:ffff:ffff:ffff:ffff", "", 3, kT0);
  EXPECT_TRUE(throttle.is_locked_out("2001:db8:1:2::99", kT0));
  EXPECT_FALSE(throttle.is_locked_out("2001:db8:1:3::1", kT0)) << "the next /64";

  ThrottlePolicy p = policy(3, 300s);
  p.ipv6_prefix = 48;
  AuthThrottle wide(p);
  EXPECT_EQ(wide.source_key("2001:db8:1:2::1"), "2001:db8:1::/48");
  p.ipv6_prefix = 128;
  AuthThrottle exact(p);
  EXPECT_EQ(exact.source_key("2001:db8:1:2::1"), "2001:db8:1:2::1");
}

TEST(AuthThrottle, TrustedNetworksAreNeverLocked) {
  ThrottlePolicy p = policy(2, 300s);
  p.trusted_networks = {"10.0.0.0/8", "2001:db8::/32"};
  AuthThrottle throttle(p);
  for (Fingerprint f = 1; f <= 20; ++f) {
    throttle.record_failure("10.1.2.3", "", f, kT0);
    throttle.record_failure("2001:db8::5", "", f, kT0);
    throttle.record_failure("192.0.2.9", "", f, kT0);
  }
  EXPECT_FALSE(throttle.is_locked_out("10.1.2.3", kT0));
  EXPECT_FALSE(throttle.is_locked_out("2001:db8::5", kT0));
  EXPECT_TRUE(throttle.is_locked_out("192.0.2.9", kT0));
}

TEST(AuthThrottle, AccountsGrowADelayAndAreNeverLocked) {
  ThrottlePolicy p = policy(1000, 300s);
  p.account_delay_after = 3;
  p.account_delay_base = 1s;
  p.max_account_delay = 10s;
  AuthThrottle throttle(p);
  std::vector<Clock::duration> delays;
  for (Fingerprint f = 1; f <= 8; ++f) {
    // A different address each time: a distributed guesser.
    throttle.record_failure("192.0.2." + std::to_string(f), "alice@example.test", f, kT0);
    delays.push_back(throttle.account_delay("alice@example.test", kT0));
  }
  const std::vector<Clock::duration> expected = {0s, 0s, 1s, 2s, 4s, 8s, 10s, 10s};
  EXPECT_EQ(delays, expected);
  EXPECT_EQ(throttle.account_delay("bob@example.test", kT0), 0s);
  EXPECT_FALSE(throttle.is_locked_out("192.0.2.1", kT0));
  // The owner logs in (late): the account's count is cleared.
  throttle.record_success("198.51.100.1", "alice@example.test", kT0 + 1s);
  EXPECT_EQ(throttle.account_delay("alice@example.test", kT0 + 1s), 0s);
  // And the window passes on its own.
  for (Fingerprint f = 1; f <= 5; ++f) throttle.record_failure("192.0.2.1", "alice@example.test", f + 10, kT0 + 2s);
  EXPECT_GT(throttle.account_delay("alice@example.test", kT0 + 2s), 0s);
  EXPECT_EQ(throttle.account_delay("alice@example.test", kT0 + 2s + 300s), 0s);
}

TEST(AuthThrottle, SuccessDoesNotLiftALockButTheOperatorDoes) {
  AuthThrottle throttle(policy(2, 300s));
  throttle.record_failure("192.0.2.1", "", 1, kT0);
  throttle.record_failure("192.0.2.1", "", 2, kT0);
  const auto before = throttle.changes();
  throttle.record_success("192.0.2.1", "", kT0 + 1s);
  EXPECT_TRUE(throttle.is_locked_out("192.0.2.1", kT0 + 1s));
  auto entries = throttle.entries(kT0 + 1s);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, ThrottleEntry::Kind::source);
  EXPECT_EQ(entries[0].key, "192.0.2.1");
  EXPECT_EQ(entries[0].until, kT0 + 300s);
  EXPECT_TRUE(throttle.unlock("192.0.2.1"));
  EXPECT_FALSE(throttle.is_locked_out("192.0.2.1", kT0 + 1s));
  EXPECT_GT(throttle.changes(), before);
  EXPECT_FALSE(throttle.unlock("192.0.2.1")) << "nothing left to lift";

  // An IPv6 lock is lifted by any address in its network, or by its listed key.
  for (Fingerprint f = 1; f <= 2; ++f) throttle.record_failure("2001:db8::1", "", f, kT0);
  EXPECT_TRUE(throttle.unlock("2001:db8::77"));
  for (Fingerprint f = 1; f <= 2; ++f) throttle.record_failure("2001:db8::1", "", f, kT0);
  EXPECT_TRUE(throttle.unlock("2001:db8::/64"));
  EXPECT_FALSE(throttle.is_locked_out("2001:db8::1", kT0));
}

TEST(AuthThrottle, ZeroMaxFailuresNeverLocks) {
  AuthThrottle throttle(policy(0, 60s));
  for (Fingerprint f = 0; f < 100; ++f) throttle.record_failure("ip", "", f, kT0);
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0));
  EXPECT_EQ(throttle.tracked(), 0u);
}

TEST(AuthThrottle, IsThreadSafe) {
  ThrottlePolicy p = policy(1'000'000, 3600s);
  p.max_tracked = 500;
  AuthThrottle throttle(p);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&throttle, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string ip = "192.0.2." + std::to_string((i * 7 + t) % 250);
        const std::string account = "u" + std::to_string(i % 300) + "@example.test";
        const auto now = kT0 + std::chrono::milliseconds(i);
        throttle.record_failure(ip, account, static_cast<Fingerprint>(i), now);
        (void)throttle.is_locked_out(ip, now);
        (void)throttle.account_delay(account, now);
        if (i % 10 == 0) throttle.record_success(ip, account, now);
        if (i % 500 == 0) throttle.prune(now);
        if (i % 300 == 0) (void)throttle.entries(now);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(throttle.tracked(), 1000u);
}

}  // namespace
}  // namespace postamt::auth
