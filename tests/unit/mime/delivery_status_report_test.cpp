// Delivery status reports (RFC 3464, RFC 6522): the produced message is read back with
// our own MIME analysis and with GMime, and its structure and fields are checked.
#include "mime/delivery_status_report.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mime/analyze_message.hpp"
#include "mime/decode_part_content.hpp"
#include "mime/header_decoding.hpp"
#include "mime/rfc5322_date.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

using test::body_of;
using test::crlf;
using test::part;

constexpr std::int64_t kNow = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000

const std::string kOriginal = crlf(
    "Return-Path: <alice@example.org>\n"
    "From: Alice <alice@example.org>\n"
    "To: Bob <bob@example.net>\n"
    "Subject: Lunch?\n"
    "Message-ID: <m1@example.org>\n"
    "\n"
    "Shall we meet at noon?\n"
    ".\n"
    "..two dots\n");

DsnRecipient failed_bob() {
  DsnRecipient r;
  r.final_recipient = "bob@example.net";
  r.action = DsnAction::failed;
  r.status = "5.1.1";
  r.remote_mta = "mx.example.net";
  r.diagnostic = "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown";
  r.last_attempt = kNow - 5;
  return r;
}

DsnReport base_report() {
  DsnReport report;
  report.reporting_mta = "mail.example.org";
  report.envid = "QQ314159";
  report.arrival_date = kNow - 60;
  report.original_sender = "alice@example.org";
  report.recipients = {failed_bob()};
  report.original_message = kOriginal;
  report.max_returned_size = 100000;
  report.now = kNow;
  report.unique_token = "4XyZ.1700000000";
  return report;
}

// Every line ends in CRLF, is at most 998 octets, and every octet is 7-bit.
void expect_wire_clean(std::string_view message) {
  ASSERT_TRUE(message.ends_with("\r\n"));
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const auto c = static_cast<unsigned char>(message[i]);
    ASSERT_LT(c, 0x80) << "at " << i;
    if (c == '\r') {
      ASSERT_TRUE(i + 1 < message.size() && message[i + 1] == '\n') << "bare CR at " << i;
    }
    if (c == '\n') {
      ASSERT_TRUE(i > 0 && message[i - 1] == '\r') << "bare LF at " << i;
      ASSERT_LE(i - 1 - line_start, 998u);
      line_start = i + 1;
    }
  }
}

// The unfolded header fields of a header block, in order.
std::vector<std::pair<std::string, std::string>> fields_of(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    const std::string_view line = block.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) continue;
    if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
      fields.back().second += std::string(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string value(line.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    fields.emplace_back(std::string(line.substr(0, colon)), value);
  }
  return fields;
}

std::string field(std::string_view block, std::string_view name) {
  for (auto& [n, v] : fields_of(block)) {
    if (n == name) return v;
  }
  return "<absent>";
}

// The delivery-status body split into its groups (RFC 3464 §2.1): per-message fields
// first, then one group per recipient.
std::vector<std::map<std::string, std::string>> status_groups(std::string_view body) {
  std::vector<std::map<std::string, std::string>> groups(1);
  std::size_t pos = 0;
  std::string previous;
  while (pos < body.size()) {
    std::size_t end = body.find("\r\n", pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) {
      groups.emplace_back();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      groups.back()[previous] += std::string(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    previous = std::string(line.substr(0, colon));
    std::string value(line.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    groups.back()[previous] = value;
  }
  while (!groups.empty() && groups.back().empty()) groups.pop_back();
  return groups;
}

struct Parsed {
  std::string raw;
  MessageMetadata metadata;
  std::string header() const { return std::string(test::message_header_of(raw, metadata.parts.front())); }
  std::string body(std::string_view section) const {
    return std::string(body_of(raw, part(metadata, section)));
  }
  std::string decoded(std::string_view section) const {
    auto content = decode_part_content(raw, part(metadata, section));
    return content ? *content : "<error>";
  }
};

Parsed build(const DsnReport& report) {
  Parsed parsed;
  parsed.raw = build_delivery_status_report(report);
  parsed.metadata = analyze_message(parsed.raw);
  expect_wire_clean(parsed.raw);
  test::expect_offsets_valid(parsed.metadata);
  return parsed;
}

std::string type_of(const Parsed& parsed, std::string_view section) {
  const PartInfo& p = part(parsed.metadata, section);
  return p.type + "/" + p.subtype;
}

TEST(DeliveryStatusReport, FailedReportHasTheRfc6522Structure) {
  const Parsed report = build(base_report());
  EXPECT_EQ(type_of(report, ""), "multipart/report");
  EXPECT_EQ(type_of(report, "1"), "text/plain");
  EXPECT_EQ(type_of(report, "2"), "message/delivery-status");
  EXPECT_EQ(type_of(report, "3"), "message/rfc822");
  EXPECT_EQ(report.metadata.find_part("4"), nullptr);
  EXPECT_NE(report.metadata.bodystructure.find("\"report-type\" \"delivery-status\""), std::string::npos)
      << report.metadata.bodystructure;

  const std::string header = report.header();
  EXPECT_EQ(field(header, "From"), "\"Mail Delivery System\" <MAILER-DAEMON@mail.example.org>");
  EXPECT_EQ(field(header, "To"), "<alice@example.org>");
  EXPECT_EQ(field(header, "Subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(field(header, "Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(field(header, "Message-ID"), "<4XyZ.1700000000@mail.example.org>");
  EXPECT_EQ(field(header, "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(field(header, "MIME-Version"), "1.0");
  EXPECT_EQ(report.metadata.subject, "Undelivered Mail Returned to Sender");
  EXPECT_EQ(report.metadata.date, kNow);
}

TEST(DeliveryStatusReport, DeliveryStatusFields) {
  const Parsed report = build(base_report());
  const auto groups = status_groups(report.body("2"));
  ASSERT_EQ(groups.size(), 2u);
  const auto& message = groups[0];
  EXPECT_EQ(message.at("Reporting-MTA"), "dns; mail.example.org");
  EXPECT_EQ(message.at("Original-Envelope-Id"), "QQ314159");
  EXPECT_EQ(message.at("Arrival-Date"), format_rfc5322_date(kNow - 60));
  const auto& bob = groups[1];
  EXPECT_EQ(bob.at("Final-Recipient"), "rfc822;bob@example.net");
  EXPECT_EQ(bob.count("Original-Recipient"), 0u);
  EXPECT_EQ(bob.at("Action"), "failed");
  EXPECT_EQ(bob.at("Status"), "5.1.1");
  EXPECT_EQ(bob.at("Remote-MTA"), "dns; mx.example.net");
  EXPECT_EQ(bob.at("Diagnostic-Code"),
            "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown");
  EXPECT_EQ(bob.at("Last-Attempt-Date"), "Tue, 14 Nov 2023 22:13:15 +0000");
  EXPECT_EQ(bob.count("Will-Retry-Until"), 0u);
}

TEST(DeliveryStatusReport, TextPartNamesRecipientAndReply) {
  const Parsed report = build(base_report());
  const std::string text = report.body("1");
  EXPECT_NE(text.find("<bob@example.net>: delivery failed permanently."), std::string::npos) << text;
  EXPECT_NE(text.find("The server mx.example.net said:"), std::string::npos) << text;
  EXPECT_NE(text.find("550 5.1.1 <bob@example.net>: Recipient address rejected: User"),
            std::string::npos) << text;
  EXPECT_NE(text.find("Your message is attached below."), std::string::npos) << text;
  EXPECT_EQ(part(report.metadata, "1").charset, "us-ascii");
}

TEST(DeliveryStatusReport, FullReturnKeepsTheOriginalExactlyDotsAndAll) {
  const Parsed report = build(base_report());
  // Not dot-stuffed: lines "." and "..two dots" are content (RFC 5321 §4.5.2 is the
  // SMTP client's business).
  EXPECT_EQ(report.body("3"), kOriginal);
  EXPECT_EQ(part(report.metadata, "3.1").type, "text");
}

TEST(DeliveryStatusReport, BareLineEndsOfTheOriginalBecomeCrlf) {
  DsnReport input = base_report();
  const std::string lf_original = "From: a@example.org\nSubject: lf\n\nline one\rline two\n";
  input.original_message = lf_original;
  const Parsed report = build(input);
  EXPECT_EQ(report.body("3"), "From: a@example.org\r\nSubject: lf\r\n\r\nline one\r\nline two\r\n");
}

TEST(DeliveryStatusReport, RetHdrsReturnsHeaderOnly) {
  DsnReport input = base_report();
  input.ret = DsnReturn::headers;
  const Parsed report = build(input);
  EXPECT_EQ(type_of(report, "3"), "text/rfc822-headers");
  const std::string headers = report.body("3");
  EXPECT_TRUE(headers.starts_with("Return-Path: <alice@example.org>\r\n")) << headers;
  EXPECT_NE(headers.find("Subject: Lunch?\r\n"), std::string::npos);
  EXPECT_EQ(headers.find("noon"), std::string::npos);
  EXPECT_NE(report.body("1").find("you asked for the"), std::string::npos) << report.body("1");
}

TEST(DeliveryStatusReport, RetUnspecifiedReturnsTheWholeFailedMessage) {
  DsnReport input = base_report();
  input.ret = DsnReturn::unspecified;
  EXPECT_EQ(type_of(build(input), "3"), "message/rfc822");
  input.ret = DsnReturn::full;
  EXPECT_EQ(type_of(build(input), "3"), "message/rfc822");
}

TEST(DeliveryStatusReport, SizeBoundFallsBackToHeaders) {
  DsnReport input = base_report();
  input.ret = DsnReturn::full;
  input.max_returned_size = kOriginal.size() - 1;
  const Parsed report = build(input);
  EXPECT_EQ(type_of(report, "3"), "text/rfc822-headers");
  EXPECT_EQ(report.body("3").find("noon"), std::string::npos);
  EXPECT_NE(report.body("1").find("larger than " + std::to_string(kOriginal.size() - 1) + " octets"),
            std::string::npos)
      << report.body("1");
  input.max_returned_size = kOriginal.size();
  EXPECT_EQ(type_of(build(input), "3"), "message/rfc822");
}

TEST(DeliveryStatusReport, EightBitOriginalIsReturnedConverted) {
  DsnReport input = base_report();
  const std::string original = crlf(
      "From: a@example.org\nSubject: 8bit\nContent-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: 8bit\n\nGr\xC3\xBC\xC3\x9F" "e\n");
  input.original_message = original;
  const Parsed report = build(input);
  EXPECT_EQ(type_of(report, "3"), "message/rfc822");
  EXPECT_EQ(report.decoded("3.1"), "Gr\xC3\xBC\xC3\x9F" "e\r\n");
}

TEST(DeliveryStatusReport, EightBitHeaderIsReturnedQuotedPrintable) {
  DsnReport input = base_report();
  const std::string original = crlf("From: a@example.org\nSubject: Gr\xC3\xBC\xC3\x9F" "e\n\nbody\n");
  input.original_message = original;
  const Parsed report = build(input);
  EXPECT_EQ(type_of(report, "3"), "text/rfc822-headers");
  EXPECT_EQ(part(report.metadata, "3").encoding, TransferEncoding::quoted_printable);
  EXPECT_EQ(report.decoded("3"), crlf("From: a@example.org\nSubject: Gr\xC3\xBC\xC3\x9F" "e\n"));
  EXPECT_NE(report.body("1").find("could not be attached in 7-bit form"), std::string::npos);
}

TEST(DeliveryStatusReport, SeveralRecipientsWithMixedOutcomes) {
  DsnReport input = base_report();
  DsnRecipient carol;
  carol.final_recipient = "carol@example.com";
  carol.original_recipient = "rfc822;Carol@Example.COM";
  carol.action = DsnAction::delayed;
  carol.status = dsn_status_from_reply(451, "");
  carol.remote_mta = "mx.example.com";
  carol.diagnostic = "451-Greylisted, please\r\n451 try again later";
  carol.last_attempt = kNow - 10;
  carol.will_retry_until = kNow + 5 * 86400;
  DsnRecipient dave;
  dave.final_recipient = "dave@example.net";
  dave.action = DsnAction::failed;
  dave.status = "not a status";
  dave.diagnostic = "Host or domain name not found (null MX)";
  dave.diagnostic_type = "X-Postamt";
  input.recipients.push_back(carol);
  input.recipients.push_back(dave);
  const Parsed report = build(input);
  EXPECT_EQ(field(report.header(), "Subject"), "Undelivered Mail Returned to Sender");

  const auto groups = status_groups(report.body("2"));
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[2].at("Original-Recipient"), "rfc822;Carol@Example.COM");
  EXPECT_EQ(groups[2].at("Action"), "delayed");
  EXPECT_EQ(groups[2].at("Status"), "4.0.0");
  EXPECT_EQ(groups[2].at("Diagnostic-Code"), "smtp; 451-Greylisted, please 451 try again later");
  EXPECT_EQ(groups[2].at("Will-Retry-Until"), format_rfc5322_date(kNow + 5 * 86400));
  EXPECT_EQ(groups[3].at("Action"), "failed");
  EXPECT_EQ(groups[3].at("Status"), "5.0.0");  // invalid status: the action's class
  EXPECT_EQ(groups[3].count("Remote-MTA"), 0u);
  EXPECT_EQ(groups[3].at("Diagnostic-Code"), "X-Postamt; Host or domain name not found (null MX)");

  const std::string text = report.body("1");
  EXPECT_NE(text.find("<carol@example.com>: not delivered yet."), std::string::npos) << text;
  EXPECT_NE(text.find("<dave@example.net>: delivery failed permanently."), std::string::npos);
  EXPECT_NE(text.find("Reason:"), std::string::npos);
}

TEST(DeliveryStatusReport, DelayOnlyReportReturnsHeadersWhateverRet) {
  DsnReport input = base_report();
  input.ret = DsnReturn::full;
  input.recipients[0].action = DsnAction::delayed;
  input.recipients[0].status = "4.4.1";
  input.recipients[0].will_retry_until = kNow + 86400;
  const Parsed report = build(input);
  EXPECT_EQ(field(report.header(), "Subject"), "Delivery Status Notification (Delay)");
  EXPECT_EQ(type_of(report, "3"), "text/rfc822-headers");  // RFC 3461 §4.3
  EXPECT_EQ(status_groups(report.body("2"))[1].at("Will-Retry-Until"),
            format_rfc5322_date(kNow + 86400));
  EXPECT_NE(report.body("1").find("will keep trying"), std::string::npos);
}

TEST(DeliveryStatusReport, SuccessReport) {
  DsnReport input = base_report();
  input.recipients[0].action = DsnAction::relayed;
  input.recipients[0].status = dsn_status_from_reply(250, "2.0.0");
  input.recipients[0].diagnostic = "250 2.0.0 Ok: queued as 12345";
  const Parsed report = build(input);
  EXPECT_EQ(field(report.header(), "Subject"), "Delivery Status Notification (Success)");
  EXPECT_EQ(status_groups(report.body("2"))[1].at("Action"), "relayed");
  EXPECT_EQ(status_groups(report.body("2"))[1].at("Status"), "2.0.0");
  EXPECT_EQ(type_of(report, "3"), "text/rfc822-headers");
}

TEST(DeliveryStatusReport, HostileDiagnosticIsOneBoundedSevenBitLine) {
  DsnReport input = base_report();
  input.recipients[0].diagnostic =
      "550 5.7.1 bad\r\nInjected: header\x01\x7f \xC3\xA9 " + std::string(5000, 'x');
  const Parsed report = build(input);
  const std::string diagnostic = status_groups(report.body("2"))[1].at("Diagnostic-Code");
  EXPECT_TRUE(diagnostic.starts_with("smtp; 550 5.7.1 bad Injected: header?? ? ")) << diagnostic;
  EXPECT_LE(diagnostic.size(), 1000u);
  EXPECT_EQ(status_groups(report.body("2"))[1].count("Injected"), 0u);
  // The text part may carry the UTF-8 as UTF-8 (quoted-printable).
  EXPECT_EQ(part(report.metadata, "1").charset, "utf-8");
  EXPECT_NE(report.decoded("1").find("header?? \xC3\xA9\r\n    xxx"), std::string::npos);
}

TEST(DeliveryStatusReport, Utf8AddressesStaySevenBit) {
  DsnReport input = base_report();
  input.original_sender = "j\xC3\xB6rg@example.org";
  input.recipients[0].final_recipient = "\xC3\xA9lise@example.net";
  input.recipients[0].original_recipient = "utf-8;\xC3\xA9lise+x@example.net";
  const Parsed report = build(input);
  const auto bob = status_groups(report.body("2"))[1];
  EXPECT_EQ(bob.at("Final-Recipient"), "utf-8;\\x{E9}lise@example.net");  // RFC 6533 §3
  EXPECT_EQ(bob.at("Original-Recipient"), "utf-8;\\x{E9}lise\\x{2B}x@example.net");
  // The UTF-8 sender is named by an RFC 2047 encoded group name, "=?utf-8?b?...?=:;".
  EXPECT_EQ(field(report.header(), "To"), "=?utf-8?b?asO2cmdAZXhhbXBsZS5vcmc=?=:;");
  EXPECT_EQ(report.metadata.to, "j\xC3\xB6rg@example.org:;");
}

TEST(DeliveryStatusReport, BoundaryAvoidsContentThatContainsIt) {
  DsnReport input = base_report();
  const std::string plain = build_delivery_status_report(input);
  const std::size_t at = plain.find("boundary=\"") + 10;
  const std::string boundary = plain.substr(at, plain.find('"', at) - at);
  const std::string hostile = crlf("Subject: x\n\n--") + boundary + crlf("\nfake part\n--") +
                              boundary + crlf("--\n");
  input.original_message = hostile;
  const Parsed report = build(input);
  EXPECT_EQ(report.body("3"), hostile);
  EXPECT_EQ(report.metadata.find_part("4"), nullptr);
}

TEST(DeliveryStatusReport, SameInputSameOutput) {
  EXPECT_EQ(build_delivery_status_report(base_report()), build_delivery_status_report(base_report()));
}

TEST(DeliveryStatusReport, GMimeReadsTheReport) {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
  std::string raw = build_delivery_status_report(base_report());
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  ASSERT_NE(message, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(message), "Undelivered Mail Returned to Sender");
  GMimeObject* body = g_mime_message_get_mime_part(message);
  ASSERT_TRUE(GMIME_IS_MULTIPART(body));
  GMimeContentType* type = g_mime_object_get_content_type(body);
  EXPECT_TRUE(g_mime_content_type_is_type(type, "multipart", "report"));
  EXPECT_STREQ(g_mime_content_type_get_parameter(type, "report-type"), "delivery-status");
  GMimeMultipart* multipart = GMIME_MULTIPART(body);
  ASSERT_EQ(g_mime_multipart_get_count(multipart), 3);
  EXPECT_TRUE(g_mime_content_type_is_type(
      g_mime_object_get_content_type(g_mime_multipart_get_part(multipart, 0)), "text", "plain"));
  EXPECT_TRUE(g_mime_content_type_is_type(
      g_mime_object_get_content_type(g_mime_multipart_get_part(multipart, 1)), "message",
      "delivery-status"));
  GMimeObject* returned = g_mime_multipart_get_part(multipart, 2);
  ASSERT_TRUE(GMIME_IS_MESSAGE_PART(returned));
  GMimeMessage* original = g_mime_message_part_get_message(GMIME_MESSAGE_PART(returned));
  ASSERT_NE(original, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(original), "Lunch?");
  EXPECT_STREQ(g_mime_message_get_message_id(original), "m1@example.org");
  g_object_unref(message);
  g_object_unref(parser);
  g_object_unref(stream);
}

TEST(DsnStatus, FromReply) {
  EXPECT_EQ(dsn_status_from_reply(550, "5.1.1"), "5.1.1");
  EXPECT_EQ(dsn_status_from_reply(550, ""), "5.0.0");      // RFC 3463: class only
  EXPECT_EQ(dsn_status_from_reply(451, ""), "4.0.0");
  EXPECT_EQ(dsn_status_from_reply(250, ""), "2.0.0");
  EXPECT_EQ(dsn_status_from_reply(550, "4.2.2"), "5.0.0");  // class disagrees with the code
  EXPECT_EQ(dsn_status_from_reply(552, "5.2.123"), "5.2.123");
  EXPECT_EQ(dsn_status_from_reply(550, "5.1234.1"), "5.0.0");
  EXPECT_EQ(dsn_status_from_reply(354, ""), "4.0.0");
  EXPECT_EQ(dsn_status_from_reply(0, ""), "4.0.0");
  EXPECT_TRUE(is_valid_dsn_status("2.0.0"));
  EXPECT_FALSE(is_valid_dsn_status("3.0.0"));
  EXPECT_FALSE(is_valid_dsn_status("5.1."));
  EXPECT_FALSE(is_valid_dsn_status("5.1.1 "));
}

TEST(Rfc5322Date, FormatsUtc) {
  EXPECT_EQ(format_rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(kNow), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(format_rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(-5), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(INT64_MAX), "Fri, 31 Dec 9999 23:59:59 +0000");
  for (std::int64_t t : {std::int64_t{1}, kNow, std::int64_t{4102444799}}) {
    EXPECT_EQ(parse_date(format_rfc5322_date(t)), t);
  }
}

}  // namespace
}  // namespace postamt::mime
