// security/outbound_limits: the windows over hourly rows and the limit decisions.
#include "security/outbound_limits.hpp"

#include <gtest/gtest.h>

namespace postamt::security {
namespace {

constexpr storage::UnixTime kHour = 3600;
constexpr storage::UnixTime kNoon = 1'764'590'400;  // 2025-12-01T12:00:00Z

storage::OutboundHour hour(storage::UnixTime start, std::uint64_t messages, std::uint64_t recipients = 0,
                           std::uint64_t fresh = 0) {
  storage::OutboundHour h;
  h.hour = start;
  h.messages = messages;
  h.recipients = recipients;
  h.new_recipients = fresh;
  return h;
}

TEST(OutboundLimits, LastHourSlidesOverTwoBuckets) {
  const std::vector<storage::OutboundHour> rows = {hour(kNoon - kHour, 10), hour(kNoon, 4)};
  // A quarter into the hour: three quarters of the previous hour still count.
  const auto summary = summarize(rows, kNoon + kHour / 4);
  EXPECT_DOUBLE_EQ(summary.last_hour_messages, 4 + 7.5);
  EXPECT_EQ(summary.day_messages, 14u);
}

TEST(OutboundLimits, DayIsTheLast24HoursAndTheBaselineTheWeekBefore) {
  const std::vector<storage::OutboundHour> rows = {
      hour(kNoon - 8 * 24 * kHour, 1000),  // beyond the week: ignored
      hour(kNoon - 3 * 24 * kHour, 6), hour(kNoon - 2 * 24 * kHour, 2),
      hour(kNoon - 23 * kHour, 5, 50, 7),   // the oldest hour of the day
      hour(kNoon, 1, 3, 1),
      hour(kNoon + kHour, 99),  // a clock set back: ignored
  };
  const auto summary = summarize(rows, kNoon + 60);
  EXPECT_EQ(summary.day_messages, 6u);
  EXPECT_EQ(summary.day_recipients, 53u);
  EXPECT_EQ(summary.day_new_recipients, 8u);
  EXPECT_DOUBLE_EQ(summary.typical_hour_messages, 4.0) << "the mean of the busy hours";
}

TEST(OutboundLimits, MessageLimitsStopTheMessageThatWouldExceedThem) {
  OutboundLimitsConfig config;
  config.limits.messages_per_hour = 5;
  config.limits.messages_per_day = 8;
  ActivitySummary activity;
  activity.last_hour_messages = 4;
  EXPECT_FALSE(check_message(activity, config.limits, config)) << "the fifth is within the limit";
  activity.last_hour_messages = 5;
  auto breach = check_message(activity, config.limits, config);
  ASSERT_TRUE(breach);
  EXPECT_EQ(breach->reason, BreachReason::messages_per_hour);
  EXPECT_EQ(breach_key(breach->reason), "messages_per_hour");
  EXPECT_NE(breach->detail.find("limit of 5 per hour"), std::string::npos) << breach->detail;
  activity.last_hour_messages = 4.2;  // a sliding estimate is rounded up
  EXPECT_TRUE(check_message(activity, config.limits, config));

  activity.last_hour_messages = 1;
  activity.day_messages = 8;
  breach = check_message(activity, config.limits, config);
  ASSERT_TRUE(breach);
  EXPECT_EQ(breach->reason, BreachReason::messages_per_day);
}

TEST(OutboundLimits, BurstIsMeasuredAgainstTheAccountsOwnBaseline) {
  OutboundLimitsConfig config;  // factor 10, floor 50, 200 per hour
  ActivitySummary activity;
  activity.last_hour_messages = 60;
  EXPECT_FALSE(check_message(activity, config.limits, config)) << "no history: only the plain limits";
  activity.typical_hour_messages = 2;  // threshold max(20, 50) = 50
  auto breach = check_message(activity, config.limits, config);
  ASSERT_TRUE(breach);
  EXPECT_EQ(breach->reason, BreachReason::burst);
  activity.typical_hour_messages = 8;  // threshold 80
  EXPECT_FALSE(check_message(activity, config.limits, config));
  config.burst_factor = 0;  // off
  activity.typical_hour_messages = 1;
  EXPECT_FALSE(check_message(activity, config.limits, config));
}

TEST(OutboundLimits, RecipientLimitsCountTheTransaction) {
  OutboundAccountLimits limits;
  limits.recipients_per_day = 10;
  limits.new_recipients_per_day = 3;
  ActivitySummary activity;
  activity.day_recipients = 8;
  activity.day_new_recipients = 2;
  EXPECT_FALSE(check_recipients(activity, limits, 2, 1));
  auto breach = check_recipients(activity, limits, 3, 1);
  ASSERT_TRUE(breach);
  EXPECT_EQ(breach->reason, BreachReason::recipients_per_day);
  breach = check_recipients(activity, limits, 2, 2);
  ASSERT_TRUE(breach);
  EXPECT_EQ(breach->reason, BreachReason::new_recipients_per_day);
}

TEST(OutboundLimits, BouncesNeedAMinimumAndAShare) {
  OutboundLimitsConfig config;
  config.bounce_min = 10;
  config.bounce_percent = 30;
  ActivitySummary activity;
  activity.day_bounced = 9;
  activity.day_delivered = 0;
  EXPECT_FALSE(check_bounces(activity, config)) << "below the minimum";
  activity.day_bounced = 10;
  activity.day_delivered = 30;  // 25%
  EXPECT_FALSE(check_bounces(activity, config));
  activity.day_delivered = 20;  // 33%
  auto breach = check_bounces(activity, config);
  ASSERT_TRUE(breach);
  EXPECT_EQ(breach->reason, BreachReason::bounces);
  config.bounce_percent = 0;
  EXPECT_FALSE(check_bounces(activity, config));
}

TEST(OutboundLimits, AccountOverridesReplaceTheDefaults) {
  OutboundLimitsConfig config;
  config.accounts["news@example.com"].messages_per_hour = 5000;
  EXPECT_EQ(limits_for(config, "news@example.com").messages_per_hour, 5000u);
  EXPECT_EQ(limits_for(config, "alice@example.com").messages_per_hour, 200u);
}

}  // namespace
}  // namespace postamt::security
