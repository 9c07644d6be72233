// security/login_networks: distinct networks of successful logins within a window.
#include "security/login_networks.hpp"

#include <gtest/gtest.h>

namespace postamt::security {
namespace {

using namespace std::chrono_literals;

TEST(LoginNetworks, NetworksAtThePrefixLengths) {
  EXPECT_EQ(network_of("192.0.2.77", 24, 48), "192.0.2.0/24");
  EXPECT_EQ(network_of("192.0.2.77", 32, 48), "192.0.2.77/32");
  EXPECT_EQ(network_of("192.0.2.77", 20, 48), "192.0.0.0/20");
  EXPECT_EQ(network_of("2001:db8:1:2::5", 24, 48), "2001:db8:1::/48");
  EXPECT_EQ(network_of("::ffff:198.51.100.9", 24, 48), "198.51.100.0/24") << "IPv4-mapped counts as IPv4";
  EXPECT_FALSE(network_of("not an address", 24, 48));
  EXPECT_FALSE(network_of("", 24, 48));
}

TEST(LoginNetworks, MoreNetworksThanAllowedWithinTheWindowIsASignal) {
  LoginNetworks logins({2, 10min, 24, 48});
  const auto t0 = LoginNetworks::Clock::time_point{} + 1h;
  EXPECT_FALSE(logins.record("alice@example.com", "192.0.2.1", t0));
  EXPECT_FALSE(logins.record("alice@example.com", "192.0.2.99", t0 + 1s)) << "same /24";
  EXPECT_FALSE(logins.record("alice@example.com", "198.51.100.1", t0 + 2s));
  EXPECT_FALSE(logins.record("bob@example.com", "203.0.113.1", t0 + 3s)) << "per account";
  auto signal = logins.record("alice@example.com", "203.0.113.1", t0 + 4s);
  ASSERT_TRUE(signal);
  EXPECT_EQ(signal->size(), 3u);
  EXPECT_EQ(signal->back(), "203.0.113.0/24");
}

TEST(LoginNetworks, OldLoginsLeaveTheWindowAndForgetClearsTheAccount) {
  LoginNetworks logins({1, 10min, 24, 48});
  const auto t0 = LoginNetworks::Clock::time_point{} + 1h;
  EXPECT_FALSE(logins.record("alice@example.com", "192.0.2.1", t0));
  EXPECT_FALSE(logins.record("alice@example.com", "198.51.100.1", t0 + 11min)) << "the first left the window";
  EXPECT_TRUE(logins.record("alice@example.com", "203.0.113.1", t0 + 12min));
  logins.forget("alice@example.com");
  EXPECT_EQ(logins.accounts(), 0u);
  EXPECT_FALSE(logins.record("alice@example.com", "192.0.2.1", t0 + 13min));
}

TEST(LoginNetworks, OffWhenNoNetworksAreAllowed) {
  LoginNetworks logins({0, 10min, 24, 48});
  const auto t0 = LoginNetworks::Clock::time_point{} + 1h;
  for (int i = 1; i < 20; ++i) {
    EXPECT_FALSE(logins.record("alice@example.com", "192.0." + std::to_string(i) + ".1", t0));
  }
  EXPECT_EQ(logins.accounts(), 0u);
}

}  // namespace
}  // namespace postamt::security
