#pragma once
// The trace fields a receiving MTA prepends (RFC 5321 §4.4): Return-Path at final
// delivery and one Received line per hop, with the protocol keywords of RFC 3848 /
// RFC 6531 §3.7.3 (ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP...).
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::delivery {

struct TraceInfo {
  std::string reverse_path;      // "" for the null sender
  std::string helo;              // what the client said in EHLO/HELO
  bool extended = true;          // EHLO (ESMTP) rather than HELO (SMTP)
  std::string client_ip;
  std::string hostname;          // ours
  std::string id;                // the transaction id we log and reply with
  std::string tls_version;       // "" without TLS
  std::string tls_cipher;
  std::string auth_user;         // "" when not authenticated
  bool smtputf8 = false;
  std::vector<std::string> recipients;  // a single one is named in "for"
  std::time_t when = 0;
};

// "Return-Path: <...>\r\nReceived: ...\r\n", folded at 78 columns.
std::string trace_headers(const TraceInfo& info);

// "Fri, 27 Nov 2026 05:30:00 +0000" (RFC 5322 §3.3), in UTC.
std::string rfc5322_date(std::time_t when);

// The "with" keyword for the Received line.
std::string received_protocol(const TraceInfo& info);

// RFC 5321 §6.3: a message that passed through more relays than this is looping.
inline constexpr std::size_t kMaxHops = 100;

// The number of Received fields in the message's header (up to the first empty line),
// counting at most `stop_after` + 1 of them.
std::size_t count_received_fields(std::string_view message, std::size_t stop_after = kMaxHops);

}  // namespace postamt::delivery
