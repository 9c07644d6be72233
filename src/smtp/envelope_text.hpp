#pragma once
// Envelope and log text for the SMTP session: DSN parameters as the queue stores them,
// the delivery's view of the transaction, and client-supplied values made safe for one
// log field.
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/message_preparer.hpp"
#include "proto/smtp/esmtp_parameters.hpp"
#include "proto/smtp/events.hpp"

namespace postamt::smtp {

// RFC 3461 NOTIFY as stored with a queued recipient: "NEVER" or "SUCCESS,FAILURE,DELAY"
// (those given), "" when absent.
std::string notify_text(const proto::smtp::DsnNotify& notify);
// RFC 3461 RET: "FULL", "HDRS" or "".
std::string ret_text(proto::smtp::DsnRet ret);
// A recipient the session accepted at RCPT, with what it resolved to then.
struct AcceptedRecipient {
  std::string address;
  proto::smtp::RcptTo rcpt;
  delivery::Resolution resolution;
};

// The envelope of the transaction as the MDA takes it (content left to the caller).
// `mailboxes`: per recipient, where its local copies go ("" INBOX; may be shorter).
delivery::IncomingMessage incoming_message(const proto::smtp::Envelope& envelope,
                                           const std::vector<AcceptedRecipient>& recipients,
                                           const std::vector<std::string>& mailboxes, std::time_t received_at);

// The domain of the first recipient an alias forwards to a remote address ("" when none).
std::string forwarding_domain(const std::vector<AcceptedRecipient>& recipients);

// Printable ASCII only ('?' for the rest), at most 200 octets.
std::string loggable(std::string_view text);
// "a,b,c"
std::string joined(const std::vector<std::string>& items);

}  // namespace postamt::smtp
