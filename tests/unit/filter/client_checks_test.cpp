#include "filter/client_checks.hpp"
#include "filter/client_rate.hpp"
#include "filter/greylist.hpp"

#include <gtest/gtest.h>

namespace postamt::filter {
namespace {

using namespace std::chrono_literals;

TEST(HeloChecks, NamesLiteralsAndClaims) {
  const std::vector<std::string> us = {"mx.example.test"};
  EXPECT_EQ(check_helo("mail.sender.example", "192.0.2.1", us), HeloProblem::none);
  EXPECT_EQ(check_helo("mail.sender.example.", "192.0.2.1", us), HeloProblem::none);
  EXPECT_EQ(check_helo("localhost", "192.0.2.1", us), HeloProblem::not_a_name);
  EXPECT_EQ(check_helo("bad_name.example", "192.0.2.1", us), HeloProblem::not_a_name);
  EXPECT_EQ(check_helo("MX.Example.Test", "192.0.2.1", us), HeloProblem::claims_to_be_us);
  EXPECT_EQ(check_helo("[192.0.2.1]", "192.0.2.1", us), HeloProblem::none);
  EXPECT_EQ(check_helo("[192.0.2.2]", "192.0.2.1", us), HeloProblem::literal_not_the_client);
  EXPECT_EQ(check_helo("[IPv6:2001:db8::1]", "2001:db8:0::1", us), HeloProblem::none);
  EXPECT_EQ(check_helo("[nonsense]", "192.0.2.1", us), HeloProblem::not_a_name);
}

TEST(Greylist, FirstTryIsDeferredARetryAfterTheDelayPassesAndAllowsTheNetwork) {
  GreylistOptions options;
  options.delay = 300s;
  Greylist greylist(options);
  const auto t0 = Greylist::Clock::time_point{} + 1000h;
  auto first = greylist.check("192.0.2.10", "a@sender.example", "b@example.test", t0);
  EXPECT_EQ(first.outcome, Greylist::Outcome::deferred);
  EXPECT_EQ(first.wait, 300s);
  auto early = greylist.check("192.0.2.10", "A@Sender.Example", "b@example.test", t0 + 100s);
  EXPECT_EQ(early.outcome, Greylist::Outcome::deferred);
  EXPECT_EQ(early.wait, 200s);
  // The retry comes from another address of the same /24: the same triplet.
  EXPECT_EQ(greylist.check("192.0.2.77", "a@sender.example", "b@example.test", t0 + 301s).outcome,
            Greylist::Outcome::pass);
  // Auto-allow: a new sender from that network passes at once.
  EXPECT_EQ(greylist.check("192.0.2.5", "other@else.example", "c@example.test", t0 + 302s).outcome,
            Greylist::Outcome::allowed);
  // Another network still waits.
  EXPECT_EQ(greylist.check("198.51.100.1", "a@sender.example", "b@example.test", t0 + 302s).outcome,
            Greylist::Outcome::deferred);
}

TEST(Greylist, ATripletNotRetriedInTimeStartsOver) {
  GreylistOptions options;
  options.delay = 60s;
  options.retry_window = 3600s;
  Greylist greylist(options);
  const auto t0 = Greylist::Clock::time_point{} + 1000h;
  greylist.check("192.0.2.10", "a@s.example", "b@example.test", t0);
  EXPECT_EQ(greylist.check("192.0.2.10", "a@s.example", "b@example.test", t0 + 2h).outcome,
            Greylist::Outcome::deferred);
}

TEST(Greylist, StaysWithinItsBoundAndLetsMailThroughWhenFull) {
  GreylistOptions options;
  options.max_entries = 100;
  Greylist greylist(options);
  const auto t0 = Greylist::Clock::time_point{} + 1000h;
  for (int i = 0; i < 500; ++i) {
    greylist.check("192.0.2.10", "s" + std::to_string(i) + "@s.example", "b@example.test", t0);
  }
  EXPECT_LE(greylist.size(), 100u);
  EXPECT_EQ(greylist.check("192.0.2.10", "new@s.example", "b@example.test", t0).outcome, Greylist::Outcome::pass);
}

TEST(Greylist, NetworksFollowTheirPrefixes) {
  Greylist greylist;
  EXPECT_EQ(greylist.network_of("192.0.2.77"), "192.0.2.0/24");
  EXPECT_EQ(greylist.network_of("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(greylist.network_of("nonsense"), "");
}

TEST(ClientRate, CountsPerHourAndForgetsOldMinutes) {
  ClientRate rate(3);
  const auto t0 = ClientRate::Clock::time_point{} + 1000h;
  EXPECT_TRUE(rate.admit("192.0.2.1", t0));
  EXPECT_TRUE(rate.admit("192.0.2.1", t0 + 10min));
  EXPECT_TRUE(rate.admit("192.0.2.1", t0 + 20min));
  EXPECT_FALSE(rate.admit("192.0.2.1", t0 + 30min));
  EXPECT_TRUE(rate.admit("192.0.2.2", t0 + 30min));  // another client
  // An hour after the first one, its minute has left the window.
  EXPECT_TRUE(rate.admit("192.0.2.1", t0 + 61min));
  EXPECT_FALSE(rate.admit("192.0.2.1", t0 + 62min));
  EXPECT_TRUE(rate.admit("192.0.2.1", t0 + 200min));
}

TEST(ClientRate, IPv6CountsPerSlash64AndTheTableIsBounded) {
  ClientRate rate(1, 10);
  const auto t0 = ClientRate::Clock::time_point{} + 1000h;
  EXPECT_TRUE(rate.admit("2001:db8::1", t0));
  EXPECT_FALSE(rate.admit("2001:db8::ffff:2", t0));
  for (int i = 0; i < 50; ++i) rate.admit("192.0.2." + std::to_string(i), t0);
  EXPECT_LE(rate.clients(), 10u);
}

}  // namespace
}  // namespace postamt::filter
