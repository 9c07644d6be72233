#pragma once
// Value types of security events and bans (issue 15 §7, §8; schema version 7).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "storage/api/types.hpp"

namespace postamt::storage {

// One security event as stored (security/security_event.hpp makes them).
struct SecurityEventRow {
  std::int64_t id = 0;  // set when read
  UnixTime at = 0;
  std::string kind;      // "auth_failure", "ban", ... (security::EventKind's names)
  std::string ip;        // "" when none
  std::string account;   // "" when none
  std::string protocol;  // "smtp", "imap", "pop3", "cli", ... or ""
  std::string fields;    // a JSON object of string values, "{}" when none
};

struct SecurityEventQuery {
  UnixTime since = 0;
  std::string account;  // "": any (compared case-insensitively)
  std::string kind;     // "": any
  std::string ip;       // "": any
  std::size_t limit = 1000;  // the newest `limit` events, returned oldest first
};

// A ban of an address or network, kept after it ends (until pruned) so that a repeat
// offender's next ban lasts longer.
struct BanRow {
  std::string target;    // "192.0.2.7", "192.0.2.0/24", "2001:db8:1:2::/64"
  std::string reason;    // "auth_failures", "recipient_probe", "protocol_abuse"
  std::string detail;    // one line for people
  UnixTime banned_at = 0;
  UnixTime until = 0;    // the ban ends (an unban sets it to the time of the unban)
  std::uint32_t offences = 1;  // bans of this target so far (escalation)
};

}  // namespace postamt::storage
