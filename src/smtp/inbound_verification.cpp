#include "smtp/inbound_verification.hpp"

#include "mailauth/inbound_check.hpp"
#include "mailauth/inbound_policy.hpp"

namespace postamt::smtp {

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
  if (decision.action == mailauth::Action::reject || decision.action == mailauth::Action::defer) {
    verdict.refusal = proto::smtp::Reply{static_cast<unsigned>(decision.code), decision.status, decision.text};
    co_return verdict;
  }
  verdict.edit.prepend = std::move(result.fields);
  for (const mailauth::ByteRange& forged : result.forged) {
    verdict.edit.drop.emplace_back(forged.offset, forged.offset + forged.length);
  }
  for (const mailauth::Action action : actions) verdict.mailboxes.push_back(action == mailauth::Action::junk ? "Junk" : "");
  co_return verdict;
}

}  // namespace postamt::smtp
