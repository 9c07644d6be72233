#pragma once
// Command line limits (RFC 5321 §4.5.3.1.4 plus what each announced extension adds).
//
// The base limit is 512 octets including CRLF. Extensions that add MAIL/RCPT parameters
// raise it for those commands; the allowances below are what each parameter can add at
// its longest, as the extension defines (or, where it only bounds the value, the
// keyword plus the bounded value):
//
//   MAIL  SIZE=               +26   RFC 1870 §4 item (5)
//         BODY=8BITMIME       +14   RFC 6152 (" BODY=8BITMIME")
//         SMTPUTF8            +10   RFC 6531 §3.4 (" SMTPUTF8")
//         UTF-8 in the path   +460  RFC 6531 §3.4 allowance for non-ASCII addresses
//         RET= ENVID=         +116  RFC 3461 §4.3/§4.4 (" RET=HDRS" 9 + " ENVID=" 7 + 100)
//         AUTH=               +500  RFC 4954 §5 (only when AUTH is announced)
//   RCPT  NOTIFY=             +29   RFC 3461 §4.1 (" NOTIFY=SUCCESS,FAILURE,DELAY")
//         ORCPT=              +507  RFC 3461 §4.2 (" ORCPT=" 7 + 500)
//         UTF-8 in the path   +460  RFC 6531 §3.4
//
// So after EHLO: MAIL 1138 (1638 with AUTH), RCPT 1508; every other command keeps 512.
// AUTH lines (the command with its initial response, and the SASL responses) may use the
// buffer limit, the largest of these, which holds any PLAIN/LOGIN exchange. Before EHLO
// (or after HELO, which negotiates nothing) every command is held to 512.
//
// The line splitter is sized to the largest limit so a longer line is never buffered;
// the per-command limit is then checked on the complete line.
#include <cstddef>

namespace postamt::proto::smtp {

inline constexpr std::size_t kBaseCommandLine = 512;

struct LineLimits {
  std::size_t mail = kBaseCommandLine;
  std::size_t rcpt = kBaseCommandLine;
  std::size_t other = kBaseCommandLine;
  std::size_t buffer = kBaseCommandLine;  // the largest of the above: the splitter's limit
};

// The limits once EHLO negotiated the extensions; announce_auth adds AUTH='s allowance.
LineLimits extended_line_limits(bool announce_auth);

}  // namespace postamt::proto::smtp
