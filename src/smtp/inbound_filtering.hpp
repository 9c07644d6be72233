#pragma once
// The filter pipeline's end-of-data step for mail arriving on port 25 (issue 15 §1): the
// message shown to the filters, their verdicts decided into one action, and that action
// prepared for the session — a refusal, or the header changes (our X-Spam-Status among
// them) added to the message's edit and whether it goes to Junk. Before the 250, so
// nothing accepted is bounced later.
#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.hpp"
#include "proto/smtp/reply.hpp"
#include "smtp/message_spool.hpp"

namespace postamt::filter {
class Pipeline;
}

namespace postamt::smtp {

struct FilterOutcome {
  std::optional<proto::smtp::Reply> refusal;  // 550 / 451: the message is not taken
  bool junk = false;                          // every recipient's copy goes to Junk
  std::string summary;                        // every filter's verdict, for the log
  std::string decided_by;                     // the filter whose verdict decided
};

// `edit` gains the header changes when the message is taken. `earlier`: verdicts reached
// before the pipeline (sender authentication's), decided together with the filters'.
asio::awaitable<FilterOutcome> run_inbound_filters(filter::Pipeline& pipeline, const filter::MessageFacts& facts,
                                                   std::vector<filter::Verdict> earlier, MessageSpool& spool,
                                                   MessageSpool::HeadEdit& edit);

// Sender authentication's outcome as a verdict: its results as symbols ("dmarc=fail"),
// Junk when every recipient's copy goes there (a mix stays per recipient).
filter::Verdict mailauth_verdict(std::string_view results, std::string_view reason,
                                 const std::vector<std::string>& mailboxes);

}  // namespace postamt::smtp
