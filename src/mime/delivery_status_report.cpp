#include "mime/delivery_status_report.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <new>

#include "mime/eightbit_downgrade.hpp"
#include "mime/report_text.hpp"
#include "mime/rfc5322_date.hpp"
#include "mime/transfer_encoders.hpp"

namespace postamt::mime {

namespace {

constexpr std::size_t kMaxDiagnostic = 900;          // octets of a Diagnostic-Code text
constexpr std::size_t kMaxAddress = 512;             // octets of an address we repeat
constexpr std::size_t kMaxReturnedHeader = 256 * 1024;  // octets of a returned header
constexpr std::size_t kMaxLineLength = 998;          // RFC 5322 §2.1.1

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Our host name as it may appear in a domain (dot-atom-text, RFC 5322 §3.2.3).
std::string host_name(std::string_view reporting_mta) {
  std::string out;
  for (char c : reporting_mta.substr(0, 253)) {
    if (is_alnum(c) || c == '-' || c == '.') out += c;
  }
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out.empty() ? "localhost" : out;
}

// The token as the left part of a Message-ID (dot-atom-text) and as a boundary.
std::string token_text(std::string_view token) {
  std::string out;
  for (char c : token.substr(0, 60)) {
    const bool keep = is_alnum(c) || c == '-' || c == '_' || (c == '.' && !out.empty() && out.back() != '.');
    out += keep ? c : '_';
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out.empty() ? "dsn" : out;
}

// Printable ASCII for structured fields (RFC 3464 §2.1: the fields are 7-bit text).
std::string field_text(std::string_view text, std::size_t max_octets) {
  return ascii_only(single_line_utf8(text, max_octets));
}

// address-type ";" generic-address (RFC 3464 §2.3.2): RFC 822 addresses as they are,
// others (SMTPUTF8) as RFC 6533 utf-8 addresses in their 7-bit xtext form.
std::string typed_address(std::string_view type, std::string_view address) {
  const std::string clean = single_line_utf8(address, kMaxAddress);
  if (is_ascii(clean) && (type.empty() || type == "rfc822")) return "rfc822;" + clean;
  if (type.empty() || type == "rfc822" || type == "utf-8") return "utf-8;" + utf8_addr_xtext(clean);
  return field_text(type, 64) + ";" + (is_ascii(clean) ? clean : utf8_addr_xtext(clean));
}

std::string original_recipient_field(std::string_view orcpt) {
  const std::size_t semicolon = orcpt.find(';');
  if (semicolon == std::string_view::npos) return typed_address("rfc822", orcpt);
  std::string type = field_text(orcpt.substr(0, semicolon), 64);
  std::transform(type.begin(), type.end(), type.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return typed_address(type, orcpt.substr(semicolon + 1));
}

// RFC 3461 §4.4: an ENVID is printable ASCII; anything else is written as xtext "+XX".
std::string envelope_id(std::string_view envid) {
  std::string out;
  for (char c : envid.substr(0, 100)) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7F && c != '+') {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '+';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

std::string_view action_name(DsnAction action) {
  switch (action) {
    case DsnAction::failed: return "failed";
    case DsnAction::delayed: return "delayed";
    case DsnAction::delivered: return "delivered";
    case DsnAction::relayed: return "relayed";
    case DsnAction::expanded: return "expanded";
  }
  return "failed";
}

std::string status_of(const DsnRecipient& recipient) {
  if (is_valid_dsn_status(recipient.status)) return recipient.status;
  switch (recipient.action) {
    case DsnAction::failed: return "5.0.0";
    case DsnAction::delayed: return "4.0.0";
    default: return "2.0.0";
  }
}

bool any_action(const DsnReport& report, DsnAction action) {
  return std::any_of(report.recipients.begin(), report.recipients.end(),
                     [&](const DsnRecipient& r) { return r.action == action; });
}

// ---- the returned content (RFC 6522 §3, RFC 3461 §4.3) ----

struct ReturnedContent {
  std::string part;  // MIME header and body of the third body part
  std::string note;  // a sentence for the text part
};

// The header block of the original (RFC 5322 §2.1): lines up to the empty line, or up to
// the first line that is neither a field nor a continuation.
std::string_view original_header(std::string_view message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::size_t lf = message.find('\n', pos);
    const std::size_t next = lf == std::string_view::npos ? message.size() : lf + 1;
    std::string_view line = message.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) break;
    if (line.front() != ' ' && line.front() != '\t') {
      const std::size_t colon = line.find(':');
      if (colon == 0 || colon == std::string_view::npos) break;
    }
    if (next > kMaxReturnedHeader) break;
    pos = next;
  }
  return message.substr(0, pos);
}

bool is_plain_7bit_text(std::string_view text) {
  if (!is_ascii(text)) return false;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      std::size_t length = i - line_start;
      if (length > 0 && text[i - 1] == '\r') --length;
      if (length > kMaxLineLength) return false;
      line_start = i + 1;
    }
  }
  return true;
}

ReturnedContent headers_only(std::string_view message, std::string note) {
  ReturnedContent content;
  content.note = std::move(note);
  const std::string header = to_crlf(original_header(message));
  content.part = "Content-Type: text/rfc822-headers\r\n"
                 "Content-Description: Header of the original message\r\n";
  if (is_plain_7bit_text(header)) {
    content.part += "\r\n" + header;
  } else {
    // 8-bit (RFC 6532) or over-long header lines: text/* may be quoted-printable.
    content.part += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    content.part += encode_quoted_printable(header);
  }
  return content;
}

ReturnedContent returned_content(const DsnReport& report) {
  const std::string_view original = report.original_message;
  const bool failed = any_action(report, DsnAction::failed);
  if (!failed) {
    return headers_only(original, "The header of your message is attached below.");
  }
  if (report.ret == DsnReturn::headers) {
    return headers_only(original,
                        "The header of your message is attached below (you asked for the "
                        "header only).");
  }
  if (report.headers_only_forwarded) {
    return headers_only(original,
                        "Your message was forwarded by this server, which returns the header only "
                        "of forwarded mail; it is attached below.");
  }
  if (original.size() > report.max_returned_size) {
    return headers_only(original, "Your message is larger than " +
                                      std::to_string(report.max_returned_size) +
                                      " octets, so only its header is attached below.");
  }
  DowngradeLimits limits;
  // Quoted-printable may triple the size; base64 adds a third.
  const std::size_t bound = report.max_returned_size;
  limits.max_output_size = bound > (SIZE_MAX - 4096) / 4 ? SIZE_MAX : bound * 4 + 4096;
  auto seven_bit = downgrade_to_7bit(original, limits);
  if (!seven_bit) {
    return headers_only(original,
                        "Your message could not be attached in 7-bit form (" +
                            field_text(seven_bit.error().detail, 200) +
                            "), so only its header is attached below.");
  }
  ReturnedContent content;
  content.note = "Your message is attached below.";
  content.part = "Content-Type: message/rfc822\r\n"
                 "Content-Description: Undelivered message\r\n\r\n";
  content.part += to_crlf(*seven_bit);
  return content;
}

// ---- part 1: text/plain for people ----

std::string recipient_paragraphs(const DsnRecipient& recipient) {
  const std::string address = "<" + single_line_utf8(recipient.final_recipient, kMaxAddress) + ">";
  std::string first;
  switch (recipient.action) {
    case DsnAction::failed: first = address + ": delivery failed permanently."; break;
    case DsnAction::delayed:
      first = address + ": not delivered yet.";
      if (recipient.will_retry_until) {
        first += " The mail system keeps trying until " +
                 format_rfc5322_date(*recipient.will_retry_until) + ".";
      }
      break;
    case DsnAction::delivered: first = address + ": delivered."; break;
    case DsnAction::relayed:
      first = address + ": passed on to a mail system that does not send delivery "
                        "notifications.";
      break;
    case DsnAction::expanded:
      first = address + ": delivered to a list or alias, which passed it on to its members.";
      break;
  }
  std::string text = wrap_paragraph(first, "");
  const std::string diagnostic = single_line_utf8(recipient.diagnostic, kMaxDiagnostic);
  if (!diagnostic.empty()) {
    const std::string host = single_line_utf8(recipient.remote_mta, 255);
    const std::string said = recipient.diagnostic_type == "smtp"
                                 ? (host.empty() ? "The remote server said:"
                                                 : "The server " + host + " said:")
                                 : "Reason:";
    text += wrap_paragraph(said, "    ");
    text += wrap_paragraph(diagnostic, "    ");
  }
  return text;
}

std::string text_part(const DsnReport& report, std::string_view host, std::string_view note) {
  std::string text = wrap_paragraph("This is the mail system at " + std::string(host) + ".", "");
  text += "\r\n";
  if (any_action(report, DsnAction::failed)) {
    text += wrap_paragraph(
        "Your message could not be delivered to one or more of its recipients. The mail "
        "system has given up on them.",
        "");
    text += "\r\n";
  }
  if (any_action(report, DsnAction::delayed)) {
    text += wrap_paragraph(
        "Your message has not yet been delivered to one or more of its recipients. The mail "
        "system will keep trying; you do not need to send it again.",
        "");
    text += "\r\n";
  }
  if (any_action(report, DsnAction::delivered) || any_action(report, DsnAction::relayed) ||
      any_action(report, DsnAction::expanded)) {
    text += wrap_paragraph("Your message was delivered as shown below.", "");
    text += "\r\n";
  }
  for (const DsnRecipient& recipient : report.recipients) {
    text += recipient_paragraphs(recipient);
    text += "\r\n";
  }
  text += wrap_paragraph(note, "");

  std::string part = "Content-Type: text/plain; charset=";
  if (is_ascii(text)) {
    part += "us-ascii\r\nContent-Description: Notification\r\n\r\n" + text;
  } else {  // UTF-8 addresses or replies
    part += "utf-8\r\nContent-Description: Notification\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
            encode_quoted_printable(text);
  }
  return part;
}

// ---- part 2: message/delivery-status (RFC 3464 §2) ----

std::string status_part(const DsnReport& report, std::string_view host) {
  std::string body;
  // per-message-fields (RFC 3464 §2.2)
  body += fold_field("Reporting-MTA", "dns; " + std::string(host));
  if (!report.envid.empty()) body += fold_field("Original-Envelope-Id", envelope_id(report.envid));
  if (report.arrival_date) body += fold_field("Arrival-Date", format_rfc5322_date(*report.arrival_date));
  // per-recipient-fields (RFC 3464 §2.3), each group after an empty line
  for (const DsnRecipient& recipient : report.recipients) {
    body += "\r\n";
    if (!recipient.original_recipient.empty()) {
      body += fold_field("Original-Recipient", original_recipient_field(recipient.original_recipient));
    }
    body += fold_field("Final-Recipient", typed_address("rfc822", recipient.final_recipient));
    body += fold_field("Action", action_name(recipient.action));
    body += fold_field("Status", status_of(recipient));
    const std::string remote = field_text(recipient.remote_mta, 255);
    if (!remote.empty()) body += fold_field("Remote-MTA", "dns; " + remote);
    const std::string diagnostic = field_text(recipient.diagnostic, kMaxDiagnostic);
    if (!diagnostic.empty()) {
      std::string type = field_text(recipient.diagnostic_type, 64);
      type.erase(std::remove_if(type.begin(), type.end(), [](char c) { return c == ' ' || c == ';'; }),
                 type.end());
      if (type.empty()) type = "smtp";
      body += fold_field("Diagnostic-Code", type + "; " + diagnostic);
    }
    if (recipient.last_attempt) {
      body += fold_field("Last-Attempt-Date", format_rfc5322_date(*recipient.last_attempt));
    }
    if (recipient.action == DsnAction::delayed && recipient.will_retry_until) {
      body += fold_field("Will-Retry-Until", format_rfc5322_date(*recipient.will_retry_until));
    }
  }
  return "Content-Type: message/delivery-status\r\n"
         "Content-Description: Delivery report\r\n\r\n" + body;
}

// ---- the message ----

std::string subject_of(const DsnReport& report) {
  if (any_action(report, DsnAction::failed)) return "Undelivered Mail Returned to Sender";
  if (any_action(report, DsnAction::delayed)) return "Delivery Status Notification (Delay)";
  return "Delivery Status Notification (Success)";
}

std::string to_field(std::string_view sender) {
  const std::string address = single_line_utf8(sender, kMaxAddress);
  if (address.empty()) return fold_field("To", "undisclosed-recipients:;");
  if (is_ascii(address)) return fold_field("To", "<" + address + ">");
  // A UTF-8 address (RFC 6531) cannot appear in a 7-bit header: name it in an RFC 2047
  // encoded group name instead (RFC 2047 §5 (3), RFC 5322 §3.4 group).
  return fold_field("To", encoded_words(address) + ":;");
}

// A boundary (RFC 2046 §5.1.1: up to 70 bchars) that occurs in none of the parts.
std::string choose_boundary(std::string_view token, std::string_view host,
                            std::initializer_list<std::string_view> parts) {
  std::string base = "=_" + token_text(token) + "/" + std::string(host.substr(0, 40));
  if (base.size() > 62) base.resize(62);
  std::string candidate = base;
  for (int attempt = 1; attempt <= 64; ++attempt) {
    const std::string delimiter = "--" + candidate;
    const bool clash = std::any_of(parts.begin(), parts.end(), [&](std::string_view part) {
      return part.find(delimiter) != std::string_view::npos;
    });
    if (!clash) break;
    candidate = base + "." + std::to_string(attempt);
  }
  return candidate;
}

}  // namespace

bool is_valid_dsn_status(std::string_view status) {
  // status-code = class "." subject "." detail (RFC 3463 §2)
  if (status.size() < 5 || (status[0] != '2' && status[0] != '4' && status[0] != '5') ||
      status[1] != '.') {
    return false;
  }
  std::size_t pos = 2;
  for (int field = 0; field < 2; ++field) {
    std::size_t digits = 0;
    while (pos < status.size() && status[pos] >= '0' && status[pos] <= '9') ++pos, ++digits;
    if (digits < 1 || digits > 3) return false;
    if (field == 0) {
      if (pos >= status.size() || status[pos] != '.') return false;
      ++pos;
    }
  }
  return pos == status.size();
}

std::string dsn_status_from_reply(unsigned code, std::string_view enhanced_status) {
  const unsigned reply_class = code / 100;
  if (is_valid_dsn_status(enhanced_status) &&
      static_cast<unsigned>(enhanced_status[0] - '0') == reply_class && code < 600) {
    return std::string(enhanced_status);
  }
  switch (reply_class) {
    case 2: return "2.0.0";
    case 5: return "5.0.0";
    default: return "4.0.0";  // 4xx, and codes RFC 5321 §4.2 does not define
  }
}

std::string build_delivery_status_report(const DsnReport& report) {
  const std::string host = host_name(report.reporting_mta);
  ReturnedContent returned;
  try {
    returned = returned_content(report);
  } catch (const std::bad_alloc&) {
    returned = headers_only(report.original_message, "Your message could not be attached.");
  }
  const std::string text = text_part(report, host, returned.note);
  const std::string status = status_part(report, host);
  const std::string boundary = choose_boundary(report.unique_token, host, {text, status, returned.part});

  std::string message;
  message.reserve(text.size() + status.size() + returned.part.size() + 1024);
  message += fold_field("From", "\"Mail Delivery System\" <MAILER-DAEMON@" + host + ">");
  message += to_field(report.original_sender);
  message += fold_field("Subject", subject_of(report));
  message += fold_field("Date", format_rfc5322_date(report.now));
  message += fold_field("Message-ID", "<" + token_text(report.unique_token) + "@" + host + ">");
  message += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: multipart/report; report-type=delivery-status;\r\n"
             "\tboundary=\"" + boundary + "\"\r\n";
  message += "\r\n";
  message += "This is a MIME-encapsulated delivery status notification (RFC 3464).\r\n";
  for (const std::string* part : {&text, &status, static_cast<const std::string*>(&returned.part)}) {
    message += "\r\n--" + boundary + "\r\n";
    message += *part;
    if (!message.ends_with("\r\n")) message += "\r\n";
  }
  message += "\r\n--" + boundary + "--\r\n";
  return message;
}

}  // namespace postamt::mime
