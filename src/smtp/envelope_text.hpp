#pragma once
// Envelope and log text for the SMTP session: DSN parameters as the queue stores them,
// and client-supplied values made safe for one log field.
#include <string>
#include <string_view>
#include <vector>

#include "proto/smtp/esmtp_parameters.hpp"

namespace postamt::smtp {

// RFC 3461 NOTIFY as stored with a queued recipient: "NEVER" or "SUCCESS,FAILURE,DELAY"
// (those given), "" when absent.
std::string notify_text(const proto::smtp::DsnNotify& notify);
// RFC 3461 RET: "FULL", "HDRS" or "".
std::string ret_text(proto::smtp::DsnRet ret);
// Printable ASCII only ('?' for the rest), at most 200 octets.
std::string loggable(std::string_view text);
// "a,b,c"
std::string joined(const std::vector<std::string>& items);

}  // namespace postamt::smtp
