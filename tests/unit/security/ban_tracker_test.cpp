// BanTracker (issue 15 §7): thresholds per source and per IPv4 network, distinct values,
// escalation of repeat offenders, trusted networks, and the store's bans taking over.
#include <gtest/gtest.h>

#include "security/ban_tracker.hpp"
#include "security/security_event.hpp"

namespace postamt::security {
namespace {

BanPolicy policy() {
  BanPolicy p;
  p.auth_failures = 3;
  p.recipient_probes = 5;
  p.protocol_errors = 0;  // off
  p.window = 60;
  p.ban_duration = 100;
  p.max_ban_duration = 350;
  p.prefix_factor = 2;
  p.trusted_networks = {"10.0.0.0/8"};
  return p;
}

TEST(BanTracker, KeysAreTheAddressTheIpv6NetworkAndTheIpv4Network) {
  BanTracker tracker(policy());
  EXPECT_EQ(tracker.source_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(tracker.source_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(tracker.source_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(tracker.network_key("192.0.2.7"), "192.0.2.0/24");
  EXPECT_EQ(tracker.network_key("2001:db8::1"), std::nullopt);
  EXPECT_EQ(tracker.source_key("not an address"), std::nullopt);
}

TEST(BanTracker, ThresholdWithinTheWindowBans) {
  BanTracker tracker(policy());
  EXPECT_TRUE(tracker.record("192.0.2.7", BanReason::auth_failures, 1, 1000).empty());
  EXPECT_TRUE(tracker.record("192.0.2.7", BanReason::auth_failures, 1, 1001).empty()) << "the same value again";
  EXPECT_TRUE(tracker.record("192.0.2.7", BanReason::auth_failures, 2, 1002).empty());
  auto bans = tracker.record("192.0.2.7", BanReason::auth_failures, 3, 1003);
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].target, "192.0.2.7");
  EXPECT_EQ(bans[0].reason, "auth_failures");
  EXPECT_EQ(bans[0].until, 1103);
  EXPECT_TRUE(tracker.is_banned("192.0.2.7", 1050));
  EXPECT_FALSE(tracker.is_banned("192.0.2.8", 1050));
  EXPECT_FALSE(tracker.is_banned("192.0.2.7", 1103));
}

TEST(BanTracker, AnOldWindowStartsAgainAndOffReasonsNeverBan) {
  BanTracker tracker(policy());
  tracker.record("192.0.2.7", BanReason::auth_failures, 0, 1000);
  tracker.record("192.0.2.7", BanReason::auth_failures, 0, 1001);
  EXPECT_TRUE(tracker.record("192.0.2.7", BanReason::auth_failures, 0, 1100).empty());
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(tracker.record("192.0.2.9", BanReason::protocol_abuse, 0, 1000).empty());
}

TEST(BanTracker, ManyAddressesOfOneNetworkBanTheNetwork) {
  BanTracker tracker(policy());
  std::vector<storage::BanRow> bans;
  for (int host = 1; host <= 6; ++host) {
    auto found = tracker.record("198.51.100." + std::to_string(host), BanReason::auth_failures, 0, 1000);
    bans.insert(bans.end(), found.begin(), found.end());
  }
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].target, "198.51.100.0/24");
  EXPECT_TRUE(tracker.is_banned("198.51.100.200", 1001));
}

TEST(BanTracker, RepeatOffendersAreBannedLongerUpToTheMaximum) {
  BanTracker tracker(policy());
  tracker.remember_offences({{"192.0.2.7", "auth_failures", "", 0, 10, 2}});
  std::vector<std::int64_t> lengths;
  std::int64_t now = 1000;
  for (int round = 0; round < 3; ++round) {
    std::vector<storage::BanRow> bans;
    for (int i = 0; i < 5 && bans.empty(); ++i) bans = tracker.record("192.0.2.7", BanReason::recipient_probe, 0, now);
    ASSERT_EQ(bans.size(), 1u);
    lengths.push_back(bans[0].until - bans[0].banned_at);
    now = bans[0].until;
  }
  EXPECT_EQ(lengths, (std::vector<std::int64_t>{350, 350, 350}));  // 3rd offence: 400, capped
}

TEST(BanTracker, TrustedNetworksAreNeverBannedAndTheStoreDecides) {
  BanTracker tracker(policy());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(tracker.record("10.1.2.3", BanReason::auth_failures, 0, 1000).empty());
  tracker.replace_active({{"10.1.2.3", "auth_failures", "", 1000, 5000, 1}, {"203.0.113.5", "x", "", 1000, 5000, 1}});
  EXPECT_FALSE(tracker.is_banned("10.1.2.3", 1001));
  EXPECT_TRUE(tracker.is_banned("203.0.113.5", 1001));
  EXPECT_EQ(tracker.active(1001), 2u);
  tracker.replace_active({});  // the operator's unban
  EXPECT_FALSE(tracker.is_banned("203.0.113.5", 1001));
}

TEST(SecurityEvent, KindsRoundTripAndFieldsAreJson) {
  for (auto name : kind_names()) EXPECT_EQ(kind_name(*parse_kind(name)), name);
  EXPECT_EQ(parse_kind("nonsense"), std::nullopt);
  SecurityEvent event;
  event.fields = {{"why", "wrong \"password\"\n"}, {"n", "1"}};
  EXPECT_EQ(fields_json(event), R"({"why":"wrong \"password\"\u000a","n":"1"})");
}

}  // namespace
}  // namespace postamt::security
