#pragma once
// Delivery status notifications (RFC 3464) as complete messages (RFC 5322): a
// multipart/report (RFC 6522) with
//   1. text/plain: what happened, for people;
//   2. message/delivery-status: the same for programs (RFC 3464 §2);
//   3. the returned content: message/rfc822 (the whole original) or text/rfc822-headers.
// The result is 7-bit, CRLF-terminated, with no line over 998 octets, ready to queue
// with the null reverse-path (RFC 5321 §4.5.5). Pure: the caller supplies the time and
// the unique token, so equal input gives equal output.
//
// What is returned (RFC 3461 §4.3):
//  - only a report with at least one "failed" recipient returns the whole message; a
//    report of delays or successes returns the header only, as §4.3 says it SHOULD;
//  - RET=HDRS returns the header only;
//  - so does a report about mail that came through a forwarding alias (headers_only_
//    forwarded): its sender is often forged, and returning the whole message would make
//    this server a reflector of what it was sent (backscatter);
//  - RET=FULL, and RET unspecified (where §4.3 lets the MTA choose; Postamt returns the
//    whole message, as Postfix and sendmail do, since a sender usually wants it back),
//    return the whole message when it is at most max_returned_size octets, else the
//    header only, and the text says so;
//  - a returned message with 8-bit content is converted to 7-bit (eightbit_downgrade);
//    when it cannot be converted, the header only is returned, quoted-printable encoded
//    if it has 8-bit octets or over-long lines (text/rfc822-headers is a text type).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::mime {

// RFC 3464 §2.3.3.
enum class DsnAction { failed, delayed, delivered, relayed, expanded };

// The MAIL FROM RET parameter (RFC 3461 §4.3).
enum class DsnReturn { unspecified, full, headers };

struct DsnRecipient {
  std::string final_recipient;     // the address delivery was attempted to, without <>
  std::string original_recipient;  // the ORCPT as "addr-type;address" (decoded), or ""
  DsnAction action = DsnAction::failed;
  std::string status;              // "5.1.1" (RFC 3463); see dsn_status_from_reply
  std::string remote_mta;          // the host that answered, or "" when none was reached
  // The diagnostic: for "smtp" the remote reply as received, e.g. "550 5.1.1 <bob@x>:
  // unknown user" (lines of a multi-line reply may be separated by CRLF or LF: they are
  // joined with spaces); for other types a sentence of ours. "" = none.
  std::string diagnostic;
  std::string diagnostic_type = "smtp";  // RFC 3464 §2.3.6: "smtp", or "X-Postamt"
  std::optional<std::int64_t> last_attempt;      // Unix time
  std::optional<std::int64_t> will_retry_until;  // Unix time; written for "delayed" only
};

struct DsnReport {
  std::string reporting_mta;  // our host name: Reporting-MTA, From and Message-ID use it
  std::string envid;          // the ENVID (decoded, RFC 3461 §4.4), or ""
  std::optional<std::int64_t> arrival_date;  // when we accepted the message
  std::string original_sender;  // the envelope sender: the report's To (never "" here)
  std::vector<DsnRecipient> recipients;
  DsnReturn ret = DsnReturn::unspecified;
  std::string_view original_message;  // as stored: CRLF, not dot-stuffed
  std::size_t max_returned_size = 1 << 20;  // larger originals come back as headers only
  bool headers_only_forwarded = false;      // forwarded mail: the header only, whatever RET says
  std::int64_t now = 0;                     // the report's Date
  std::string unique_token;  // unique per report: Message-ID local part and boundary
};

// The report message. Never throws for odd input: text that would break the format
// (control characters, 8-bit octets, over-long values) is replaced or cut.
std::string build_delivery_status_report(const DsnReport& report);

// The Status for a recipient from the SMTP reply that decided its fate: the reply's
// enhanced status code (RFC 3463) when it has a valid one whose class agrees with the
// reply code, else the class alone: 2xx -> "2.0.0", 4xx -> "4.0.0", 5xx -> "5.0.0";
// any other code (a protocol violation) -> "4.0.0", since retrying may help.
std::string dsn_status_from_reply(unsigned code, std::string_view enhanced_status);

// True for "class.subject.detail" with class 2, 4 or 5 and 1-3 digit subject and detail.
bool is_valid_dsn_status(std::string_view status);

}  // namespace postamt::mime
