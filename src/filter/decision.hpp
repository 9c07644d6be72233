#pragma once
// The one place that turns the filters' verdicts into what SMTP does with a message at
// the end of DATA (issue 15 §1): the most severe action wins (reject > defer > junk >
// accept), its reply is the deciding filter's own or the default, and what every filter
// found is summed up in the fields added to a delivered message and in the log line.
// Pure: no I/O, no clock.
#include <string>
#include <vector>

#include "filter/filter.hpp"

namespace postamt::filter {

struct Decision {
  Action action = Action::accept;
  proto::smtp::Reply reply;  // for defer and reject
  std::string decided_by;    // the deciding filter's name ("" when everything accepted)
  // The filters' own header changes (in filter order), then ours: X-Spam-Status and, for
  // mail going to Junk, X-Spam-Flag (the fields mail clients and Sieve scripts look at).
  std::vector<HeaderChange> header_changes;
  double score = 0;    // the sum of the scores the filters gave
  bool scored = false; // some filter gave a score
  std::string summary; // "rspamd=junk(6.20; GTUBE,R_SPF_FAIL) milter:clamav=accept", for the log
};

// Defaults for filters that decide without a reply text of their own.
proto::smtp::Reply default_reject_reply();  // 550 5.7.1
proto::smtp::Reply default_defer_reply();   // 451 4.7.1

Decision decide(const std::vector<Verdict>& verdicts);

// The X-Spam-* fields a message arrives with are dropped before ours go in (they would
// otherwise vouch for it in our name).
bool is_our_verdict_field(std::string_view field_name);

std::string_view action_name(Action action);

}  // namespace postamt::filter
