#pragma once
// What the sender-authentication results mean for one message (issue 14 §7): deliver,
// deliver to Junk, refuse (5xx) or ask the sender to try later (4xx), decided per local
// recipient domain and then combined into the one reply SMTP gives at the end of DATA.
// Pure: the results come in summarised, the configuration as MailauthConfig.
#include <string>
#include <vector>

#include "base/config.hpp"
#include "proto/mailauth/dmarc_record.hpp"

namespace postamt::mailauth {

enum class DmarcVerdict { none, pass, fail, temperror, permerror };

struct AuthSummary {
  DmarcVerdict dmarc = DmarcVerdict::none;
  DmarcPolicy policy = DmarcPolicy::none;  // the one to apply (after sp/np and sampling)
  bool spf_fail = false;                   // SPF "fail" (a -all match) for MAIL FROM
  bool dkim_pass = false;                  // any DKIM signature passed
  bool trusted_arc = false;                // a valid ARC chain sealed by a trusted sealer
  bool allow_listed = false;               // allow_networks / allow_domains
  // RFC 5322 §3.6 wants exactly one From field with one address: zero or several, or a
  // From without a domain, is how DMARC is dodged ("Composition Kills"): no verdict can
  // be trusted, so such a message is handled like a DMARC failure with p=reject.
  bool from_unusable = false;
};

enum class Action { deliver, junk, reject, defer };

struct Decision {
  Action action = Action::deliver;
  int code = 250;
  std::string status;  // RFC 3463, e.g. "5.7.1"
  std::string text;    // the reply text
  std::string reason;  // for the log
};

// The decision for recipients under `policy` (a local domain's table or the defaults).
Decision decide(const AuthSummary& summary, const MailauthDomainPolicy& policy);

// The one outcome of several recipients' decisions: all refused → refused; any deferred →
// deferred (a DNS failure is the same for all); a mix of refused and delivered → the
// refused ones go to Junk instead (one reply cannot refuse some and accept others, and a
// bounce later would be backscatter). `actions` get the action per recipient, in order.
Decision combine(const std::vector<Decision>& per_recipient, std::vector<Action>& actions);

// The policy table for a recipient address's domain.
const MailauthDomainPolicy& policy_for(const MailauthConfig& config, std::string_view recipient);

}  // namespace postamt::mailauth
