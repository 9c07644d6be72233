#pragma once
// One Sendmail milter ([[filter.milter]], issue 15 §3) as a filter named "milter:NAME":
// a connection per message, the whole conversation (proto/milter) replayed from the
// session's facts and the message at the end of DATA. Each step (connecting, each
// answer) must come within timeout_seconds, the whole conversation within twice that.
// A milter that cannot be asked counts in postamt_filter_failures_total{filter,reason}
// and its verdict is accept (fail open) or defer (fail_closed).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/config.hpp"
#include "filter/filter.hpp"
#include "proto/milter/milter_conversation.hpp"

namespace postamt::filter {

struct MilterAddress {
  enum class Kind { inet, unix_socket };
  Kind kind = Kind::inet;
  std::string host;  // inet: a name or an address (brackets removed)
  std::uint16_t port = 0;
  std::string path;  // unix
};

// "inet:HOST:PORT", "inet6:[ADDRESS]:PORT", "unix:/path"; nullopt when malformed.
std::optional<MilterAddress> parse_milter_address(std::string_view text);

// What the milter is told of the message (macros, CONNECT … RCPT).
proto::milter::Envelope milter_envelope(const MessageFacts& facts);

// The milter's outcome as a verdict: reject/discard -> reject (550 5.7.1 or its own
// reply), tempfail -> defer (451 4.7.1), a REPLYCODE by its class, quarantine -> junk,
// header changes kept (verbatim) on accept.
Verdict milter_verdict(const std::string& filter_name, const proto::milter::Outcome& outcome);

std::unique_ptr<Filter> make_milter_filter(const MilterConfig& config);

}  // namespace postamt::filter
