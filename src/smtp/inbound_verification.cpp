#include "smtp/inbound_verification.hpp"

#include <algorithm>

#include "mailauth/inbound_check.hpp"
#include "base/metrics.hpp"
#include "mailauth/inbound_policy.hpp"

namespace postamt::smtp {
namespace {

std::string_view action_name(mailauth::Action action) {
  switch (action) {
    case mailauth::Action::deliver: return "deliver";
    case mailauth::Action::junk: return "junk";
    case mailauth::Action::reject: return "reject";
    case mailauth::Action::defer: return "defer";
  }
  return "deliver";
}

// postamt_mailauth_results_total{method,result}: one per message and method (DKIM: the
// best signature's result, "none" without any); postamt_mailauth_actions_total{action}.
void count(const mailauth::InboundResult& result, mailauth::Action action) {
  auto& registry = metrics::registry();
  const std::string help = "Sender authentication results of messages arriving on port 25";
  std::string dkim = "none";
  for (const auto& signature : result.dkim) {
    if (signature.status == mailauth::DkimStatus::pass) {
      dkim = "pass";
      break;
    }
    dkim = std::string(mailauth::dkim_status_name(signature.status));
  }
  registry.counter("postamt_mailauth_results_total", help,
                   {{"method", "spf"}, {"result", std::string(mailauth::spf_result_name(result.spf.result))}})
      .inc();
  registry.counter("postamt_mailauth_results_total", help, {{"method", "dkim"}, {"result", dkim}}).inc();
  registry.counter("postamt_mailauth_results_total", help,
                   {{"method", "dmarc"}, {"result", std::string(mailauth::to_string(result.dmarc.result))}})
      .inc();
  registry.counter("postamt_mailauth_actions_total", "What sender authentication did with messages on port 25",
                   {{"action", std::string(action_name(action))}})
      .inc();
}

}  // namespace

asio::awaitable<InboundVerdict> conclude_inbound_check(mailauth::InboundCheck& check, std::string_view head,
                                                       const std::vector<std::string>& recipients,
                                                       const MailauthConfig& config) {
  mailauth::InboundResult result = co_await check.finish(head);
  InboundVerdict verdict;
  verdict.results = result.summary_text;
  std::vector<mailauth::Decision> decisions;
  decisions.reserve(recipients.size());
  for (const std::string& recipient : recipients) {
    decisions.push_back(mailauth::decide(result.summary, mailauth::policy_for(config, recipient)));
  }
  std::vector<mailauth::Action> actions;
  const mailauth::Decision decision = mailauth::combine(decisions, actions);
  verdict.reason = decision.reason;
  const bool junked = std::ranges::find(actions, mailauth::Action::junk) != actions.end();
  // RFC 7489 §7.2: the disposition reported is what was done with the message (a deferred
  // one is evaluated again when it comes back).
  if (decision.action != mailauth::Action::defer) {
    check.record(result, decision.action == mailauth::Action::reject ? "reject" : junked ? "quarantine" : "none");
  }
  count(result, decision.action == mailauth::Action::deliver && junked ? mailauth::Action::junk : decision.action);
  if (decision.action == mailauth::Action::reject || decision.action == mailauth::Action::defer) {
    verdict.refusal = proto::smtp::Reply{static_cast<unsigned>(decision.code), decision.status, decision.text};
    co_return verdict;
  }
  verdict.edit.prepend = result.fields;
  for (const mailauth::ByteRange& forged : result.forged) {
    verdict.edit.drop(forged.offset, forged.offset + forged.length);
  }
  for (const mailauth::Action action : actions) verdict.mailboxes.push_back(action == mailauth::Action::junk ? "Junk" : "");
  verdict.result = std::make_shared<const mailauth::InboundResult>(std::move(result));
  co_return verdict;
}

}  // namespace postamt::smtp
