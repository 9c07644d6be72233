#pragma once
// What one delivery attempt found out about each recipient.
#include <string>
#include <string_view>

#include "storage/api/types.hpp"

namespace postamt::queue {

enum class Verdict {
  delivered,  // the server took responsibility (250 after DATA, RFC 5321 §4.1.1.4)
  temporary,  // 4xx, no connection, DNS trouble: retry later
  permanent,  // 5xx, null MX, no such domain, cannot be converted: bounce
};

struct RecipientOutcome {
  storage::Id message_id = 0;
  storage::Id recipient_id = 0;
  Verdict verdict = Verdict::temporary;
  // One line for the queue and the DSN: the server's reply ("550 5.1.1 No such user") or,
  // when the server said nothing, what went wrong ("connect to 192.0.2.1:25: Connection
  // refused").
  std::string diagnostic;
  std::string status;        // RFC 3463 code for the DSN Status field ("5.1.1")
  std::string remote_host;   // the server that answered ("" when none did)
  bool remote_reply = false;  // the diagnostic is an SMTP reply (DSN: "smtp;"), not ours
  bool relayed_dsn = false;   // the server took NOTIFY: the success notice is its job now
};

// The verdict an SMTP reply code means for a recipient.
Verdict verdict_of_code(int code);

// RFC 3463 status for a reply: its enhanced code when it has one, else the class digit
// with ".0.0" (RFC 3463 §3.1: X.0.0 when nothing more is known).
std::string status_of_reply(int code, std::string_view enhanced);

}  // namespace postamt::queue
