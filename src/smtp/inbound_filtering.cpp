#include "smtp/inbound_filtering.hpp"

#include "base/log.hpp"
#include "filter/decision.hpp"
#include "filter/pipeline.hpp"
#include "smtp/filter_edits.hpp"

namespace postamt::smtp {

asio::awaitable<FilterOutcome> run_inbound_filters(filter::Pipeline& pipeline, const filter::MessageFacts& facts,
                                                   MessageSpool& spool, MessageSpool::HeadEdit& edit) {
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
  const std::vector<filter::Verdict> verdicts = co_await pipeline.run(facts, content);
  const filter::Decision decision = filter::decide(verdicts);
  FilterOutcome outcome;
  outcome.summary = decision.summary;
  outcome.decided_by = decision.decided_by;
  if (decision.action == filter::Action::reject || decision.action == filter::Action::defer) {
    outcome.refusal = decision.reply;
    co_return outcome;
  }
  outcome.junk = decision.action == filter::Action::junk;
  add_header_changes(spool.head(), decision.header_changes, true, edit);
  co_return outcome;
}

}  // namespace postamt::smtp
