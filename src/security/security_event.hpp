#pragma once
// Security events (issue 15 §8): one structured event type for everything an operator
// must be able to see — failed logins, locks, logins from new networks, bans, holds,
// filter rejections, protocol abuse, recipient probing. emit() is called where the thing
// is known (auth, the SMTP/IMAP/POP3 sessions, the outbound guard, the ban tracker) and
// does three things at once:
//  - one log line "security.KIND ip=… account=… proto=… FIELD=…" (stable keys, empty ones
//    left out),
//  - postamt_security_events_total{kind} + 1,
//  - hands the event to the sink the server installed (security_monitor.hpp: the store,
//    for `postamt security events`, and the ban counters). No sink: log and metric only.
// Thread-safe; cheap (no I/O besides the log line).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postamt::security {

enum class EventKind {
  auth_failure,       // a failed login (wrong password, unknown user, locked source)
  auth_lockout,       // the login throttle locked a source (auth/auth_throttle.hpp)
  login_new_network,  // a successful login from a network the account had not used
  ban,                // an address or network banned (bans: security_monitor.hpp)
  unban,              // a ban lifted by the operator
  hold,               // an account's outbound mail held (smtp/outbound_guard.hpp)
  release,            // a hold lifted
  filter_reject,      // the SMTP filter pipeline refused a message (550/451)
  protocol_abuse,     // a session closed for too many bad commands
  recipient_probe,    // an unknown local recipient asked for at RCPT
};
inline constexpr std::size_t kEventKinds = 10;

std::string_view kind_name(EventKind kind);
std::optional<EventKind> parse_kind(std::string_view name);
const std::vector<std::string_view>& kind_names();

struct SecurityEvent {
  EventKind kind = EventKind::auth_failure;
  std::int64_t at = 0;  // Unix time; 0: now
  std::string ip;
  std::string account;
  std::string protocol;  // "smtp", "submission", "imap", "pop3", "cli", ...
  std::vector<std::pair<std::string, std::string>> fields;  // the kind's own, e.g. reason
  // Not logged nor stored: two failures with the same distinct value count once towards a
  // ban (a stale client repeating one wrong password is not a password guesser).
  std::uint64_t distinct = 0;
};

// The fields as a JSON object of strings ("{}" when none).
std::string fields_json(const SecurityEvent& event);

void emit(SecurityEvent event);

// postamt_security_events_total{kind} for every kind, at 0 until the first event: the
// server calls it at start so alerts on increase() see the first ban or hold.
void export_event_counters();

// The sessions' shorthands.
void report_protocol_abuse(std::string_view protocol, std::string_view ip, std::uint64_t session_id, unsigned errors);
void report_recipient_probe(std::string_view protocol, std::string_view ip, std::uint64_t session_id,
                            std::string_view recipient);

using EventSink = std::function<void(const SecurityEvent&)>;
// The server installs its sink once started and removes it ({}) before it stops.
void set_event_sink(EventSink sink);

}  // namespace postamt::security
