#pragma once
// Per-account outbound limits and the signals of a stolen account (issue 15 §6), as pure
// decisions over counts: the store keeps the counts (hourly rows per account, so they
// survive restarts), the SMTP session asks before it accepts, these functions decide.
//
// Windows: "the last hour" is the current clock hour plus the previous one weighted by the
// part of it still inside a sliding 60-minute window (a sliding-window estimate over two
// fixed buckets); "the last day" is the 24 clock hours up to and including the current one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/config.hpp"
#include "storage/api/outbound_types.hpp"

namespace postamt::security {

enum class BreachReason {
  messages_per_hour,
  messages_per_day,
  recipients_per_day,
  new_recipients_per_day,
  burst,    // far above the account's own baseline
  bounces,  // too many of its recipients bounced
  logins,   // logged in from too many networks
};

// The stable key (logs, metrics label, the store): "messages_per_hour", "burst", ...
std::string_view breach_key(BreachReason reason);

struct Breach {
  BreachReason reason;
  std::string detail;  // one line: what was counted against which limit
};

// What the hourly rows say about an account at one moment.
struct ActivitySummary {
  double last_hour_messages = 0;  // sliding estimate
  std::uint64_t day_messages = 0;
  std::uint64_t day_recipients = 0;
  std::uint64_t day_new_recipients = 0;
  std::uint64_t day_delivered = 0;
  std::uint64_t day_bounced = 0;
  // The typical busy hour: mean messages over the hours of the past week (before the last
  // day) in which the account sent anything; 0 without such history.
  double typical_hour_messages = 0;
};

// How far back the rows must reach for summarize(): a week and a day.
constexpr storage::UnixTime kHistorySeconds = 8 * 24 * 3600;

ActivitySummary summarize(std::span<const storage::OutboundHour> hours, storage::UnixTime now);

// The limits that apply to `account` (lower-cased address): its override or the defaults.
const OutboundAccountLimits& limits_for(const OutboundLimitsConfig& config, std::string_view account);

// Before one more message (MAIL FROM): the message counts and the burst signal.
std::optional<Breach> check_message(const ActivitySummary& activity, const OutboundAccountLimits& limits,
                                    const OutboundLimitsConfig& config);

// Before one more recipient (RCPT TO): `transaction_recipients` and `transaction_new` are
// those of this message so far, this one included.
std::optional<Breach> check_recipients(const ActivitySummary& activity, const OutboundAccountLimits& limits,
                                       std::uint64_t transaction_recipients, std::uint64_t transaction_new);

// The bounce signal: in the last day at least bounce_min recipients bounced and they are
// at least bounce_percent of those finished (delivered or bounced).
std::optional<Breach> check_bounces(const ActivitySummary& activity, const OutboundLimitsConfig& config);

}  // namespace postamt::security
