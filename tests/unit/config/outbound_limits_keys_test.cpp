// [outbound_limits]: defaults, per-account overrides and mistakes.
#include <gtest/gtest.h>

#include "server/config/config_loader.hpp"

namespace postamt::config {
namespace {

constexpr std::string_view kListener = "\n[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n";

Config parse_ok(std::string text) {
  auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().to_string());
  return result ? *result : Config{};
}

std::string parse_error(std::string text) {
  auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
  EXPECT_FALSE(result.has_value()) << text;
  return result ? "" : result.error().to_string();
}

TEST(OutboundLimitsKeys, SaneDefaults) {
  const Config c = parse_ok("");
  const auto& o = c.outbound_limits;
  EXPECT_TRUE(o.enabled);
  EXPECT_TRUE(o.hold_on_breach);
  EXPECT_EQ(o.limits.messages_per_hour, 200u);
  EXPECT_EQ(o.limits.messages_per_day, 1000u);
  EXPECT_EQ(o.limits.recipients_per_day, 2000u);
  EXPECT_EQ(o.limits.new_recipients_per_day, 300u);
  EXPECT_EQ(o.login_networks, 5u);
  EXPECT_EQ(o.login_window, std::chrono::seconds(3600));
  EXPECT_TRUE(o.notify.empty());
}

TEST(OutboundLimitsKeys, AccountOverridesStartFromTheSectionWhereverWritten) {
  const Config c = parse_ok(
      "[outbound_limits.account.\"News@Example.com\"]\nmessages_per_day = 50000\n"
      "[outbound_limits]\nmessages_per_hour = 5\nnotify = \"abuse@example.com\"\nhold_on_breach = false\n"
      "login_networks = 3\nlogin_window_seconds = 600\nlogin_prefix_v4 = 32\nbounce_percent = 50\n");
  const auto& o = c.outbound_limits;
  EXPECT_EQ(o.limits.messages_per_hour, 5u);
  EXPECT_EQ(o.notify, "abuse@example.com");
  EXPECT_FALSE(o.hold_on_breach);
  EXPECT_EQ(o.login_networks, 3u);
  EXPECT_EQ(o.login_window, std::chrono::seconds(600));
  EXPECT_EQ(o.login_prefix_v4, 32u);
  EXPECT_EQ(o.bounce_percent, 50u);
  ASSERT_EQ(o.accounts.count("news@example.com"), 1u);
  EXPECT_EQ(o.accounts.at("news@example.com").messages_per_day, 50000u);
  EXPECT_EQ(o.accounts.at("news@example.com").messages_per_hour, 5u) << "from the section";
}

TEST(OutboundLimitsKeys, MistakesAreNamed) {
  EXPECT_NE(parse_error("[outbound_limits]\nmessages_per_hour = 0\n").find("outbound_limits.messages_per_hour"),
            std::string::npos);
  EXPECT_NE(parse_error("[outbound_limits]\nnotify = \"nobody\"\n").find("outbound_limits.notify"), std::string::npos);
  EXPECT_NE(parse_error("[outbound_limits]\nmessage_per_hour = 5\n").find("did you mean"), std::string::npos);
  EXPECT_NE(parse_error("[outbound_limits.account.\"not-an-address\"]\nmessages_per_day = 5\n").find("account address"),
            std::string::npos);
  EXPECT_NE(parse_error("[outbound_limits]\nlogin_prefix_v4 = 33\n").find("login_prefix_v4"), std::string::npos);
}

}  // namespace
}  // namespace postamt::config
