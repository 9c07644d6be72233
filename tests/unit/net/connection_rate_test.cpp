#include "net/connection_rate.hpp"

#include <gtest/gtest.h>

namespace postamt::net {
namespace {

using namespace std::chrono_literals;
const auto t0 = ConnectionRate::Clock::time_point{} + 1h;

TEST(ConnectionRate, AdmitsABurstUpToTheLimitThenRefuses) {
  ConnectionRate rate(5, {});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rate.admit("192.0.2.1", t0)) << i;
  EXPECT_FALSE(rate.admit("192.0.2.1", t0));
  EXPECT_TRUE(rate.admit("192.0.2.2", t0)) << "another client has its own bucket";
}

TEST(ConnectionRate, RefillsAtTheLimitPerMinute) {
  ConnectionRate rate(6, {});  // one connection every 10 s once the burst is spent
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(rate.admit("192.0.2.1", t0));
  EXPECT_FALSE(rate.admit("192.0.2.1", t0 + 9s));
  EXPECT_TRUE(rate.admit("192.0.2.1", t0 + 10s));
  EXPECT_FALSE(rate.admit("192.0.2.1", t0 + 11s));
  // A quiet hour refills only up to the burst, not beyond it.
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(rate.admit("192.0.2.1", t0 + 1h)) << i;
  EXPECT_FALSE(rate.admit("192.0.2.1", t0 + 1h));
}

TEST(ConnectionRate, CountsIpv6ClientsPerSlash64) {
  ConnectionRate rate(2, {});
  EXPECT_TRUE(rate.admit("2001:db8:1:2::1", t0));
  EXPECT_TRUE(rate.admit("2001:db8:1:2:ffff::9", t0));
  EXPECT_FALSE(rate.admit("2001:db8:1:2::abcd", t0));
  EXPECT_TRUE(rate.admit("2001:db8:1:3::1", t0));
}

TEST(ConnectionRate, NeverLimitsTrustedNetworksNorWhenOff) {
  ConnectionRate rate(1, {"127.0.0.0/8", "2001:db8::/32"});
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(rate.admit("127.0.0.9", t0));
    EXPECT_TRUE(rate.admit("2001:db8::5", t0));
  }
  EXPECT_EQ(rate.clients(), 0u) << "trusted clients are not even remembered";
  ConnectionRate off(0, {});
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.admit("192.0.2.1", t0));
}

TEST(ConnectionRate, MemoryIsBoundedByForgettingTheLeastRecentClient) {
  ConnectionRate rate(1, {}, 3);
  EXPECT_TRUE(rate.admit("192.0.2.1", t0));
  EXPECT_TRUE(rate.admit("192.0.2.2", t0));
  EXPECT_TRUE(rate.admit("192.0.2.3", t0));
  EXPECT_FALSE(rate.admit("192.0.2.1", t0)) << "192.0.2.1 is now the most recent";
  EXPECT_TRUE(rate.admit("192.0.2.4", t0)) << "forgets 192.0.2.2, the least recent";
  EXPECT_EQ(rate.clients(), 3u);
  EXPECT_TRUE(rate.admit("192.0.2.2", t0)) << "a forgotten client starts afresh";
  EXPECT_FALSE(rate.admit("192.0.2.1", t0)) << "a remembered one does not";
}

}  // namespace
}  // namespace postamt::net
