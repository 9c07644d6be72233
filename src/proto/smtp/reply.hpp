#pragma once
// Reply: one SMTP reply (RFC 5321 §4.2) carrying its enhanced status code (RFC 2034,
// RFC 3463). The engine queues replies in command order; policy code only builds them.
#include <string>
#include <string_view>

namespace postamt::proto::smtp {

struct Reply {
  unsigned code = 250;  // three digits, 200..599
  // Enhanced status code "class.subject.detail" on every 2xx/4xx/5xx reply. Empty only
  // where RFC 2034 §3 exempts it (the 220 greeting and the reply to HELO/EHLO) and on
  // 3xx intermediate replies (354, 334), which have none.
  std::string status;
  std::string text;  // '\n' separates the lines of a multi-line reply

  bool positive() const { return code >= 200 && code < 400; }
  bool transient_failure() const { return code >= 400 && code < 500; }
  bool permanent_failure() const { return code >= 500 && code < 600; }
};

Reply make_reply(unsigned code, std::string_view status, std::string_view text);

// The wire form: "CODE-STATUS line\r\n" for every line but the last, "CODE STATUS
// line\r\n" for the last. The text is made safe before it goes out: every octet outside
// RFC 5321 §4.2's textstring (HTAB, SP, printable ASCII) becomes '?', so text that echoes
// peer input or comes from policy can never inject a reply line; every line is cut to
// the RFC 5321 §4.5.3.1.5 limit of 512 octets including code and CRLF.
std::string format_reply(const Reply& reply);

}  // namespace postamt::proto::smtp
