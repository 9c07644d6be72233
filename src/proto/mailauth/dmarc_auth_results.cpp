#include "proto/mailauth/dmarc_auth_results.hpp"

namespace postamt::mailauth {

AuthMethodResult dmarc_auth_result(const DmarcOutcome& outcome) {
  AuthMethodResult r;
  r.method = "dmarc";
  r.result = std::string(to_string(outcome.result));
  if (outcome.result != DmarcResult::pass && outcome.result != DmarcResult::none) r.reason = outcome.reason;
  // The published policy and what was done ("dis", the disposition, as in RFC 7489 §7.2
  // reports), as a comment: informative, not part of the parsed meaning.
  if (outcome.record) {
    r.comment = "p=" + std::string(to_string(outcome.record->policy));
    if (outcome.record->subdomain_policy) r.comment += " sp=" + std::string(to_string(*outcome.record->subdomain_policy));
    if (outcome.record->nonexistent_policy) r.comment += " np=" + std::string(to_string(*outcome.record->nonexistent_policy));
    r.comment += " dis=" + std::string(to_string(outcome.policy));
  } else if (outcome.from_status != FromStatus::ok) {
    r.comment = "dis=" + std::string(to_string(outcome.policy));
  }
  if (!outcome.from_domain.empty()) r.with("header", "from", outcome.from_domain);
  return r;
}

}  // namespace postamt::mailauth
