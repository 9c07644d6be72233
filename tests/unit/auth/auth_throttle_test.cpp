#include "auth/auth_throttle.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace postamt::auth {
namespace {

using namespace std::chrono_literals;
using Clock = AuthThrottle::Clock;

// A fixed origin: the throttle never reads a clock of its own.
const Clock::time_point kT0 = Clock::time_point{} + 1000h;

TEST(AuthThrottle, LocksOutAfterMaxFailuresWithinTheWindow) {
  AuthThrottle throttle(3, 300s);
  throttle.record_failure("192.0.2.1", kT0);
  throttle.record_failure("192.0.2.1", kT0 + 10s);
  EXPECT_FALSE(throttle.is_locked_out("192.0.2.1", kT0 + 10s));
  throttle.record_failure("192.0.2.1", kT0 + 20s);
  EXPECT_TRUE(throttle.is_locked_out("192.0.2.1", kT0 + 20s));
  EXPECT_TRUE(throttle.is_locked_out("192.0.2.1", kT0 + 20s + 299s));
  EXPECT_FALSE(throttle.is_locked_out("192.0.2.1", kT0 + 20s + 300s)) << "the lockout passes";
  EXPECT_FALSE(throttle.is_locked_out("192.0.2.2", kT0 + 20s)) << "other keys are unaffected";
}

TEST(AuthThrottle, FailuresOutsideTheWindowDoNotAddUp) {
  AuthThrottle throttle(3, 60s);
  throttle.record_failure("ip", kT0);
  throttle.record_failure("ip", kT0 + 30s);
  throttle.record_failure("ip", kT0 + 61s);  // the window restarted here
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0 + 61s));
  throttle.record_failure("ip", kT0 + 70s);
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0 + 70s));
  throttle.record_failure("ip", kT0 + 80s);
  EXPECT_TRUE(throttle.is_locked_out("ip", kT0 + 80s));
}

TEST(AuthThrottle, FailuresDuringLockoutDoNotExtendIt) {
  AuthThrottle throttle(2, 60s);
  throttle.record_failure("ip", kT0);
  throttle.record_failure("ip", kT0 + 1s);
  ASSERT_TRUE(throttle.is_locked_out("ip", kT0 + 1s));
  throttle.record_failure("ip", kT0 + 50s);
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0 + 61s));
  // After the lockout the count starts afresh.
  throttle.record_failure("ip", kT0 + 62s);
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0 + 62s));
  throttle.record_failure("ip", kT0 + 63s);
  EXPECT_TRUE(throttle.is_locked_out("ip", kT0 + 63s));
}

TEST(AuthThrottle, SuccessResetsTheCountButNotAnActiveLockout) {
  AuthThrottle throttle(3, 60s);
  throttle.record_failure("ip", kT0);
  throttle.record_failure("ip", kT0 + 1s);
  throttle.record_success("ip", kT0 + 2s);
  throttle.record_failure("ip", kT0 + 3s);
  throttle.record_failure("ip", kT0 + 4s);
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0 + 4s));
  throttle.record_failure("ip", kT0 + 5s);
  ASSERT_TRUE(throttle.is_locked_out("ip", kT0 + 5s));
  throttle.record_success("ip", kT0 + 6s);
  EXPECT_TRUE(throttle.is_locked_out("ip", kT0 + 6s));
}

TEST(AuthThrottle, ZeroMaxFailuresDisablesIt) {
  AuthThrottle throttle(0, 60s);
  for (int i = 0; i < 100; ++i) throttle.record_failure("ip", kT0 + std::chrono::seconds(i));
  EXPECT_FALSE(throttle.is_locked_out("ip", kT0 + 100s));
  EXPECT_EQ(throttle.tracked(), 0u);
}

TEST(AuthThrottle, MemoryIsBoundedByEvictingTheLeastRecentlyTouched) {
  AuthThrottle throttle(2, 60s, 3);
  throttle.record_failure("a", kT0);
  throttle.record_failure("a", kT0);  // "a" locked out
  throttle.record_failure("b", kT0 + 1s);
  throttle.record_failure("c", kT0 + 2s);
  throttle.record_failure("a", kT0 + 3s);  // touching "a" makes "b" the oldest
  throttle.record_failure("d", kT0 + 4s);  // evicts "b"
  EXPECT_EQ(throttle.tracked(), 3u);
  EXPECT_TRUE(throttle.is_locked_out("a", kT0 + 4s));
  throttle.record_failure("b", kT0 + 5s);  // "b" starts over: one failure, evicts "c"
  EXPECT_FALSE(throttle.is_locked_out("b", kT0 + 5s));
  throttle.record_failure("c", kT0 + 6s);  // "c" was forgotten too, so one failure again
  EXPECT_FALSE(throttle.is_locked_out("c", kT0 + 6s));
  EXPECT_EQ(throttle.tracked(), 3u);

  AuthThrottle big(5, 60s, 1000);
  for (int i = 0; i < 5000; ++i) big.record_failure("ip" + std::to_string(i), kT0);
  EXPECT_EQ(big.tracked(), 1000u);
}

TEST(AuthThrottle, PruneForgetsStaleKeys) {
  AuthThrottle throttle(2, 60s);
  throttle.record_failure("old", kT0);
  throttle.record_failure("locked", kT0 + 30s);
  throttle.record_failure("locked", kT0 + 31s);
  throttle.record_failure("recent", kT0 + 50s);
  throttle.prune(kT0 + 70s);
  EXPECT_EQ(throttle.tracked(), 2u);
  EXPECT_TRUE(throttle.is_locked_out("locked", kT0 + 70s));
  throttle.prune(kT0 + 200s);
  EXPECT_EQ(throttle.tracked(), 0u);
}

TEST(AuthThrottle, IsThreadSafe) {
  AuthThrottle throttle(1'000'000, 3600s, 500);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&throttle, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "ip" + std::to_string((i * 7 + t) % 800);
        throttle.record_failure(key, kT0 + std::chrono::milliseconds(i));
        (void)throttle.is_locked_out(key, kT0 + std::chrono::milliseconds(i));
        if (i % 10 == 0) throttle.record_success(key, kT0 + std::chrono::milliseconds(i));
        if (i % 500 == 0) throttle.prune(kT0 + std::chrono::milliseconds(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(throttle.tracked(), 500u);
}

}  // namespace
}  // namespace postamt::auth
