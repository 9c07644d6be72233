#include "smtp/inbound_filtering.hpp"

#include <algorithm>
#include <iterator>

#include "base/log.hpp"
#include "security/security_event.hpp"
#include "filter/decision.hpp"
#include "filter/pipeline.hpp"
#include "smtp/filter_edits.hpp"

namespace postamt::smtp {

filter::Verdict mailauth_verdict(std::string_view results, std::string_view reason,
                                 const std::vector<std::string>& mailboxes) {
  filter::Verdict verdict;
  verdict.filter = "mailauth";
  std::size_t at = 0;
  while (at < results.size()) {
    const std::size_t end = std::min(results.find(' ', at), results.size());
    if (end > at) verdict.symbols.emplace_back(results.substr(at, end - at));
    at = end + 1;
  }
  const auto junked = std::ranges::count(mailboxes, std::string("Junk"));
  if (junked > 0 && static_cast<std::size_t>(junked) == mailboxes.size()) verdict.action = filter::Action::junk;
  verdict.note = std::string(reason);
  return verdict;
}

asio::awaitable<FilterOutcome> run_inbound_filters(filter::Pipeline& pipeline, const filter::MessageFacts& facts,
                                                   std::vector<filter::Verdict> earlier, MessageSpool& spool,
                                                   MessageSpool::HeadEdit& edit) {
  std::shared_ptr<const filter::MessageContent> content;
  if (pipeline.reads_content()) {
    auto copy = co_await spool.copy_message(pipeline.max_message_size());
    if (copy) {
      auto shown = std::make_shared<filter::MessageContent>();
      shown->bytes = std::move(copy->bytes);
      shown->truncated = copy->truncated;
      content = std::move(shown);
    } else {
      // The spool failed: the session refuses the message for that reason anyway.
      log::warn("filter.content_unavailable", {{"id", facts.queue_id}, {"error", copy.error().message}});
    }
  }
  std::vector<filter::Verdict> verdicts = std::move(earlier);
  std::vector<filter::Verdict> found = co_await pipeline.run(facts, content);
  std::ranges::move(found, std::back_inserter(verdicts));
  const filter::Decision decision = filter::decide(verdicts);
  FilterOutcome outcome;
  outcome.summary = decision.summary;
  outcome.decided_by = decision.decided_by;
  if (decision.action == filter::Action::reject) {
    // Issue 15 §8: a refused message is a security event (greylisting's deferrals are not).
    security::SecurityEvent event;
    event.kind = security::EventKind::filter_reject;
    event.ip = facts.client_ip;
    event.account = facts.user;
    event.protocol = "smtp";
    event.fields = {{"id", facts.queue_id},
                    {"decided_by", decision.decided_by},
                    {"reply", std::to_string(decision.reply.code)},
                    {"summary", decision.summary.substr(0, 500)},
                    {"from", facts.mail_from.substr(0, 320)}};
    security::emit(std::move(event));
  }
  if (decision.action == filter::Action::reject || decision.action == filter::Action::defer) {
    outcome.refusal = decision.reply;
    co_return outcome;
  }
  outcome.junk = decision.action == filter::Action::junk;
  add_header_changes(spool.head(), decision.header_changes, true, edit);
  co_return outcome;
}

}  // namespace postamt::smtp
