#include "security/outbound_limits.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace postamt::security {
namespace {

constexpr storage::UnixTime kHour = 3600;
constexpr storage::UnixTime kDay = 24 * kHour;
constexpr storage::UnixTime kWeek = 7 * kDay;

}  // namespace

std::string_view breach_key(BreachReason reason) {
  switch (reason) {
    case BreachReason::messages_per_hour: return "messages_per_hour";
    case BreachReason::messages_per_day: return "messages_per_day";
    case BreachReason::recipients_per_day: return "recipients_per_day";
    case BreachReason::new_recipients_per_day: return "new_recipients_per_day";
    case BreachReason::burst: return "burst";
    case BreachReason::bounces: return "bounces";
    case BreachReason::logins: return "logins";
  }
  return "unknown";
}

ActivitySummary summarize(std::span<const storage::OutboundHour> hours, storage::UnixTime now) {
  ActivitySummary summary;
  const storage::UnixTime current = now / kHour * kHour;
  const storage::UnixTime previous = current - kHour;
  const storage::UnixTime day_start = current - 23 * kHour;  // 24 buckets with the current one
  const storage::UnixTime week_start = day_start - kWeek;
  // The share of the previous hour still inside a 60-minute window ending now.
  const double previous_weight = 1.0 - static_cast<double>(now - current) / static_cast<double>(kHour);
  std::uint64_t history_messages = 0;
  std::uint64_t history_hours = 0;
  for (const auto& hour : hours) {
    if (hour.hour > current) continue;  // a clock set back: counts from "the future" are ignored
    if (hour.hour == current) summary.last_hour_messages += static_cast<double>(hour.messages);
    if (hour.hour == previous) summary.last_hour_messages += previous_weight * static_cast<double>(hour.messages);
    if (hour.hour >= day_start) {
      summary.day_messages += hour.messages;
      summary.day_recipients += hour.recipients;
      summary.day_new_recipients += hour.new_recipients;
      summary.day_delivered += hour.delivered;
      summary.day_bounced += hour.bounced;
    } else if (hour.hour >= week_start && hour.messages > 0) {
      history_messages += hour.messages;
      ++history_hours;
    }
  }
  if (history_hours > 0) {
    summary.typical_hour_messages = static_cast<double>(history_messages) / static_cast<double>(history_hours);
  }
  return summary;
}

const OutboundAccountLimits& limits_for(const OutboundLimitsConfig& config, std::string_view account) {
  if (const auto found = config.accounts.find(std::string(account)); found != config.accounts.end()) {
    return found->second;
  }
  return config.limits;
}

std::optional<Breach> check_message(const ActivitySummary& activity, const OutboundAccountLimits& limits,
                                    const OutboundLimitsConfig& config) {
  // One more message must stay within each limit (the estimate rounded up: when in doubt,
  // the limit holds).
  const double hour_after = std::ceil(activity.last_hour_messages - 1e-9) + 1;
  if (hour_after > limits.messages_per_hour) {
    return Breach{BreachReason::messages_per_hour,
                  fmt::format("{} messages in the last hour would exceed the limit of {} per hour",
                              static_cast<std::uint64_t>(hour_after), limits.messages_per_hour)};
  }
  if (activity.day_messages + 1 > limits.messages_per_day) {
    return Breach{BreachReason::messages_per_day,
                  fmt::format("{} messages in the last 24 hours would exceed the limit of {} per day",
                              activity.day_messages + 1, limits.messages_per_day)};
  }
  // Only against a baseline: an account without history is held to its plain limits.
  if (config.burst_factor > 0 && activity.typical_hour_messages > 0) {
    const double threshold = std::max(static_cast<double>(config.burst_factor) * activity.typical_hour_messages,
                                      static_cast<double>(config.burst_floor));
    if (hour_after > threshold) {
      return Breach{BreachReason::burst,
                    fmt::format("{} messages in the last hour, far above this account's usual {:.1f} in a busy "
                                "hour (the threshold is {:.0f}: {} times that, at least {})",
                                static_cast<std::uint64_t>(hour_after), activity.typical_hour_messages, threshold,
                                config.burst_factor, config.burst_floor)};
    }
  }
  return std::nullopt;
}

std::optional<Breach> check_recipients(const ActivitySummary& activity, const OutboundAccountLimits& limits,
                                       std::uint64_t transaction_recipients, std::uint64_t transaction_new) {
  if (activity.day_recipients + transaction_recipients > limits.recipients_per_day) {
    return Breach{BreachReason::recipients_per_day,
                  fmt::format("{} recipients in the last 24 hours would exceed the limit of {} per day",
                              activity.day_recipients + transaction_recipients, limits.recipients_per_day)};
  }
  if (activity.day_new_recipients + transaction_new > limits.new_recipients_per_day) {
    return Breach{BreachReason::new_recipients_per_day,
                  fmt::format("{} first-time recipients in the last 24 hours would exceed the limit of {} per day",
                              activity.day_new_recipients + transaction_new, limits.new_recipients_per_day)};
  }
  return std::nullopt;
}

std::optional<Breach> check_bounces(const ActivitySummary& activity, const OutboundLimitsConfig& config) {
  if (config.bounce_percent == 0 || activity.day_bounced < config.bounce_min) return std::nullopt;
  const std::uint64_t finished = activity.day_delivered + activity.day_bounced;
  // bounced / finished >= percent / 100, in integers.
  if (activity.day_bounced * 100 < static_cast<std::uint64_t>(config.bounce_percent) * finished) return std::nullopt;
  return Breach{BreachReason::bounces,
                fmt::format("{} of {} recipients bounced in the last 24 hours (the limit is {}% once {} bounced)",
                            activity.day_bounced, finished, config.bounce_percent, config.bounce_min)};
}

}  // namespace postamt::security
