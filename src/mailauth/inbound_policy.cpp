#include "mailauth/inbound_policy.hpp"

#include <algorithm>
#include <cctype>

namespace postamt::mailauth {
namespace {

Decision refused(std::string status, std::string text, std::string reason) {
  return Decision{Action::reject, 550, std::move(status), std::move(text), std::move(reason)};
}

Decision junk(std::string reason) { return Decision{Action::junk, 250, "", "", std::move(reason)}; }

std::string lowered(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Decision decide(const AuthSummary& summary, const MailauthDomainPolicy& policy) {
  if (summary.allow_listed) return Decision{Action::deliver, 250, "", "", "allow-listed"};
  if (summary.from_unusable) {
    // RFC 7489 §6.6.1: a message whose author cannot be determined is not one DMARC can pass.
    if (policy.dmarc_reject) {
      return refused("5.7.1", "Message must have exactly one From address with a domain (RFC 5322 3.6.2)",
                     "from field unusable");
    }
    return junk("from field unusable");
  }
  switch (summary.dmarc) {
    case DmarcVerdict::temperror:
      // Never a silent pass: without the policy the message cannot be judged (RFC 7489 §6.6.3).
      return Decision{Action::defer, 451, "4.7.0",
                      "Sender authentication could not be completed (DNS failure), try again later",
                      "dmarc temperror"};
    case DmarcVerdict::fail:
      if (summary.trusted_arc) return Decision{Action::deliver, 250, "", "", "dmarc fail overridden by trusted arc"};
      if (summary.policy == DmarcPolicy::reject) {
        if (policy.dmarc_reject) {
          return refused("5.7.1", "Message rejected by the sender domain's DMARC policy", "dmarc fail, p=reject");
        }
        return junk("dmarc fail, p=reject (delivered to junk by local policy)");
      }
      if (summary.policy == DmarcPolicy::quarantine) {
        if (policy.dmarc_quarantine) return junk("dmarc fail, p=quarantine");
        return Decision{Action::deliver, 250, "", "", "dmarc fail, p=quarantine (kept in inbox by local policy)"};
      }
      break;
    case DmarcVerdict::none:
    case DmarcVerdict::pass:
    case DmarcVerdict::permerror:
      break;
  }
  // An SPF failure alone is weak evidence (forwarding breaks it): a refusal only when asked.
  if (summary.spf_fail && !summary.dkim_pass && summary.dmarc != DmarcVerdict::pass && policy.spf_fail_reject) {
    return refused("5.7.23", "SPF validation failed for the sender's domain", "spf fail without dkim pass");
  }
  return Decision{Action::deliver, 250, "", "", summary.dmarc == DmarcVerdict::fail ? "dmarc fail, p=none" : ""};
}

Decision combine(const std::vector<Decision>& per_recipient, std::vector<Action>& actions) {
  actions.clear();
  if (per_recipient.empty()) return Decision{};
  for (const Decision& d : per_recipient) {
    if (d.action == Action::defer) {
      actions.assign(per_recipient.size(), Action::defer);
      return d;
    }
  }
  const bool all_refused = std::ranges::all_of(per_recipient, [](const Decision& d) { return d.action == Action::reject; });
  if (all_refused) {
    actions.assign(per_recipient.size(), Action::reject);
    return per_recipient.front();
  }
  Decision accepted{Action::deliver, 250, "", "", ""};
  for (const Decision& d : per_recipient) {
    const Action action = d.action == Action::reject ? Action::junk : d.action;
    actions.push_back(action);
    if (!d.reason.empty() && accepted.reason.find(d.reason) == std::string::npos) {
      accepted.reason += (accepted.reason.empty() ? "" : "; ") + d.reason +
                         (d.action == Action::reject ? " (junk: other recipients accept)" : "");
    }
  }
  return accepted;
}

const MailauthDomainPolicy& policy_for(const MailauthConfig& config, std::string_view recipient) {
  const auto at = recipient.rfind('@');
  if (at != std::string_view::npos) {
    if (const auto found = config.domains.find(lowered(recipient.substr(at + 1))); found != config.domains.end()) {
      return found->second;
    }
  }
  return config.policy;
}

}  // namespace postamt::mailauth
