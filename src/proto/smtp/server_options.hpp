#pragma once
// What a listener tells the SMTP server engine: identity, limits and the extensions to
// announce. Policy (who may relay, which recipients exist) stays with the driver.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postamt::proto::smtp {

struct ServerOptions {
  std::string hostname = "localhost";  // greeting, EHLO reply, 221/421 replies
  // SIZE announced in EHLO (RFC 1870); enforced at MAIL (SIZE=) and while the message
  // arrives (DATA and BDAT): 552 5.3.4.
  std::uint64_t max_message_size = 50ull * 1024 * 1024;
  unsigned max_recipients = 100;  // then 452 4.5.3 (RFC 5321 §4.5.3.1.8 minimum is 100)
  std::size_t max_text_line = 1000;  // message line limit incl. CRLF (RFC 5322 998 + 2)
  bool starttls_available = false;   // announce and accept STARTTLS (while not in TLS)
  bool tls_active = false;           // the connection is already TLS (implicit TLS, 465)
  bool tls_required = false;  // refuse all but EHLO/HELO/STARTTLS/NOOP/RSET/QUIT/HELP before TLS
  std::vector<std::string> auth_mechanisms;  // announced in EHLO when non-empty
  bool auth_required = false;  // submission: MAIL before AUTH gets 530 5.7.0
  // AUTH is offered only under TLS: before it, AUTH gets 530 5.7.0 "Must issue a
  // STARTTLS command first" (RFC 3207 §4) instead of 503 "not enabled".
  bool auth_needs_tls = false;
  // Default: a bare CR or LF (in DATA, BDAT or a command line) is refused. When set, it
  // is taken as CRLF instead; <CRLF>.<CRLF> stays the only end of DATA either way.
  bool normalize_bare_line_endings = false;
  unsigned max_errors = 10;  // protocol errors before 421 4.7.0 and close (0: no limit)
  // A BDAT chunk larger than this is refused with 552 5.3.4; its octets are still read
  // and dropped (RFC 3030 §2 requires consuming the chunk) so the session stays in step.
  std::uint64_t max_bdat_chunk = 50ull * 1024 * 1024;
};

}  // namespace postamt::proto::smtp
