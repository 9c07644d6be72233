#pragma once
// The end-of-data half of sender authentication on port 25 (issue 14 §6, §7): the results
// of the message's InboundCheck turned into the reply, the fields to add and drop, and the
// mailbox each recipient's copy goes to. Everything is decided before the 250, so nothing
// accepted is bounced later (no backscatter).
#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "proto/smtp/reply.hpp"
#include "smtp/message_spool.hpp"

namespace postamt::mailauth {
class InboundCheck;
struct InboundResult;
}

namespace postamt::smtp {

struct InboundVerdict {
  std::optional<proto::smtp::Reply> refusal;  // 550 / 451: the message is not taken
  MessageSpool::HeadEdit edit;                // Authentication-Results in, forged ones out
  std::vector<std::string> mailboxes;         // per recipient: "" (INBOX) or "Junk"
  std::string results;                        // "spf=pass dkim=pass dmarc=pass", for the log
  std::string reason;                         // why refused or junked, for the log
  std::shared_ptr<const mailauth::InboundResult> result;  // what was found (ARC sealing needs it)
};

// `head` is the start of the message (MessageSpool::head()); `recipients` the accepted
// addresses in order.
asio::awaitable<InboundVerdict> conclude_inbound_check(mailauth::InboundCheck& check, std::string_view head,
                                                       const std::vector<std::string>& recipients,
                                                       const MailauthConfig& config);

}  // namespace postamt::smtp
