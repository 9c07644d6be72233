#pragma once
// Value types of per-account outbound limits and holds (issue 15 §6; schema version 6).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/api/types.hpp"

namespace postamt::storage {

// An account whose outbound mail is held: its queued mail waits, its submissions are
// refused, until an operator releases it (`postamt security release`).
struct AccountHold {
  std::string account;  // "local@domain", as the account is stored
  std::string reason;   // a stable key: "messages_per_hour", "burst", "bounces", "logins", ...
  std::string detail;   // one line for people: what was counted against what limit
  UnixTime held_at = 0;
  std::uint64_t held_recipients = 0;  // listed only: queued or deferred recipients waiting
};

// One account's sending in one clock hour (hour = its first second, a multiple of 3600).
struct OutboundHour {
  UnixTime hour = 0;
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t new_recipients = 0;  // first-time correspondents among them
  std::uint64_t delivered = 0;       // queue outcomes of the account's mail in that hour
  std::uint64_t bounced = 0;
};

// One accepted submission, counted at the end of DATA.
struct OutboundSubmission {
  std::string account;
  UnixTime at = 0;
  std::vector<std::string> recipients;  // as accepted (any case); duplicates count once
  std::size_t keep_known = 5000;        // correspondents remembered for the account at most
};

}  // namespace postamt::storage
