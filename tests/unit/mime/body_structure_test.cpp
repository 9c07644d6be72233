// BODY / BODYSTRUCTURE text and part offsets for small hand-made messages, one rule each.
// Expected strings were written from RFC 9051 §7.5.2 and the RFCs cited per test.
#include <gtest/gtest.h>

#include <string>

#include "mime/analyze_message.hpp"
#include "mime/mime_scanner.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

using test::body_of;
using test::crlf;
using test::message_header_of;
using test::message_text_of;
using test::mime_header_of;
using test::part;

// RFC 2045 §5.2: no Content-Type means text/plain; charset=us-ascii. A non-multipart
// message has exactly one part, 1, which is its body (RFC 9051 §6.4.5).
TEST(MimeBodyStructure, MissingContentTypeIsTextPlainUsAscii) {
  const std::string raw = crlf("From: a@example.org\nSubject: x\n\nhello\nworld\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(m.bodystructure,
            R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL))x");
  EXPECT_EQ(m.body, R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2))x");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(body_of(raw, part(m, "")), "hello\r\nworld\r\n");
  EXPECT_EQ(body_of(raw, part(m, "1")), "hello\r\nworld\r\n");
  // BODY[1.MIME] of a non-multipart message is the message header.
  EXPECT_EQ(mime_header_of(raw, part(m, "1")), "From: a@example.org\r\nSubject: x\r\n\r\n");
  EXPECT_EQ(message_header_of(raw, part(m, "")), "From: a@example.org\r\nSubject: x\r\n\r\n");
  EXPECT_EQ(part(m, "1").type, "text");
  EXPECT_EQ(part(m, "1").charset, "");
  EXPECT_EQ(m.size, raw.size());
  EXPECT_EQ(m.lines, 5u);
}

// RFC 2045 §5.2 also recommends the default for a syntactically invalid Content-Type.
TEST(MimeBodyStructure, InvalidContentTypeFallsBackToDefault) {
  for (const char* value : {"text", "text/", "/plain", "", "; charset=utf-8", "te xt/plain"}) {
    SCOPED_TRACE(value);
    const std::string raw = crlf(std::string("Content-Type: ") + value + "\n\nx");
    const MessageMetadata m = analyze_message(raw);
    EXPECT_EQ(m.bodystructure,
              R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL))x");
  }
}

TEST(MimeBodyStructure, MultipartAlternative) {
  const std::string raw = crlf(
      "Content-Type: multipart/alternative; boundary=\"b1\"\n"
      "\n"
      "--b1\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "plain\n"
      "--b1\n"
      "Content-Type: text/html; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<p>html</p>\n"
      "\n"
      "--b1--\n");
  const MessageMetadata m = analyze_message(raw);
  // The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), so
  // "plain" is 5 octets and 0 lines, "<p>html</p>\r\n" 13 octets and 1 line.
  EXPECT_EQ(
      m.bodystructure,
      R"x((("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 0 NIL NIL NIL NIL))x"
      R"x(("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 13 1 NIL NIL NIL NIL))x"
      R"x( "alternative" ("boundary" "b1") NIL NIL NIL))x");
  EXPECT_EQ(
      m.body,
      R"x((("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 0))x"
      R"x(("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 13 1) "alternative"))x");
  EXPECT_EQ(body_of(raw, part(m, "1")), "plain");
  EXPECT_EQ(mime_header_of(raw, part(m, "1")), "Content-Type: text/plain; charset=utf-8\r\n\r\n");
  EXPECT_EQ(body_of(raw, part(m, "2")), "<p>html</p>\r\n");
  EXPECT_EQ(part(m, "2").encoding, TransferEncoding::quoted_printable);
  EXPECT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(part(m, "").type, "multipart");
  EXPECT_EQ(body_of(raw, part(m, "")), raw.substr(raw.find("--b1")));
}

// RFC 9051 §6.4.5: the parts of an encapsulated message are numbered below the
// message/rfc822 part; N.HEADER and N.TEXT are its header and text.
TEST(MimeBodyStructure, NestedMessageRfc822) {
  const std::string raw = crlf(
      "Subject: outer\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "\n"
      "first\n"
      "--outer\n"
      "Content-Type: message/rfc822\n"
      "Content-Description: forwarded\n"
      "\n"
      "Subject: inner\n"
      "From: In <in@example.org>\n"
      "Content-Type: multipart/mixed; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "one\n"
      "--inner\n"
      "Content-Type: application/pdf\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERg==\n"
      "--inner--\n"
      "--outer--\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(m.body,
            R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0))x"
            R"x(("message" "rfc822" NIL NIL "forwarded" "7bit" 230 )x"
            R"x((NIL "inner" (("In" NIL "in" "example.org")) (("In" NIL "in" "example.org")) )x"
            R"x((("In" NIL "in" "example.org")) NIL NIL NIL NIL NIL) )x"
            R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 0))x"
            R"x(("application" "pdf" NIL NIL NIL "base64" 8) "mixed") 13) "mixed"))x");
  const std::vector<std::string> sections = {"", "1", "2", "2.1", "2.2"};
  ASSERT_EQ(m.parts.size(), sections.size());
  for (std::size_t i = 0; i < sections.size(); ++i) EXPECT_EQ(m.parts[i].section, sections[i]);

  const PartInfo& p2 = part(m, "2");
  EXPECT_TRUE(p2.is_message);
  EXPECT_EQ(mime_header_of(raw, p2),
            "Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n");
  EXPECT_EQ(message_header_of(raw, p2),
            "Subject: inner\r\nFrom: In <in@example.org>\r\n"
            "Content-Type: multipart/mixed; boundary=inner\r\n\r\n");
  EXPECT_TRUE(message_text_of(raw, p2).starts_with("--inner\r\n"));
  EXPECT_TRUE(message_text_of(raw, p2).ends_with("--inner--"));  // CRLF is the outer delimiter's
  EXPECT_EQ(body_of(raw, p2).size(), 230u);
  EXPECT_EQ(body_of(raw, part(m, "2.1")), "one");
  EXPECT_EQ(mime_header_of(raw, part(m, "2.1")), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(body_of(raw, part(m, "2.2")), "JVBERg==");
  EXPECT_EQ(part(m, "2.2").encoding, TransferEncoding::base64);
}

// A message/rfc822 whose message is not multipart: N.1 is that message's body and
// N.1.MIME its header.
TEST(MimeBodyStructure, EncapsulatedSinglePartMessage) {
  const std::string raw = crlf(
      "Content-Type: message/rfc822\n"
      "\n"
      "Subject: inner\n"
      "\n"
      "text\n");
  const MessageMetadata m = analyze_message(raw);
  // The top level itself is message/rfc822: part 1 is it, 1.1 the inner body.
  EXPECT_EQ(m.bodystructure,
            R"x(("message" "rfc822" NIL NIL NIL "7bit" 24 )x"
            R"x((NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) )x"
            R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL) 3)x"
            R"x( NIL NIL NIL NIL))x");
  const PartInfo& p1 = part(m, "1");
  EXPECT_TRUE(p1.is_message);
  EXPECT_EQ(message_header_of(raw, p1), "Subject: inner\r\n\r\n");
  EXPECT_EQ(message_text_of(raw, p1), "text\r\n");
  EXPECT_EQ(body_of(raw, part(m, "1.1")), "text\r\n");
  EXPECT_EQ(mime_header_of(raw, part(m, "1.1")), "Subject: inner\r\n\r\n");
}

TEST(MimeBodyStructure, EmptyMessageAndEmptyBody) {
  const MessageMetadata empty = analyze_message("");
  EXPECT_EQ(empty.envelope, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  EXPECT_EQ(empty.bodystructure,
            R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))x");
  test::expect_offsets_valid(empty);

  const std::string raw = crlf("Subject: nothing\n\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(m.body, R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))x");
  EXPECT_EQ(part(m, "").header_end, raw.size());

  const MessageMetadata header_only = analyze_message("Subject: no blank line");
  EXPECT_EQ(part(header_only, "").header_end, 22u);
  EXPECT_NE(header_only.envelope.find("\"no blank line\""), std::string::npos);
}

// A line that is not a header field ends the header even without the blank line.
TEST(MimeBodyStructure, NoBlankLineBetweenHeaderAndBody) {
  const std::string raw = crlf("Subject: x\nThis is the body\nmore\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(message_header_of(raw, part(m, "")), "Subject: x\r\n");
  EXPECT_EQ(body_of(raw, part(m, "")), "This is the body\r\nmore\r\n");
  EXPECT_EQ(m.body, R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 24 2))x");
}

// Stored messages have CRLF, but bare LF is handled the same way (best effort).
TEST(MimeBodyStructure, BareLfInput) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=z\n"
      "\n"
      "--z\n"
      "\n"
      "a\n"
      "--z\n"
      "Content-Type: text/html\n"
      "\n"
      "<b>\n"
      "--z--\n";
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(body_of(raw, part(m, "1")), "a");
  EXPECT_EQ(mime_header_of(raw, part(m, "1")), "\n");
  EXPECT_EQ(body_of(raw, part(m, "2")), "<b>");
  EXPECT_EQ(m.body, R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0))x"
                    R"x(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 3 0) "mixed"))x");
}

// RFC 2046 §5.1.5: in multipart/digest a body part without Content-Type is message/rfc822.
TEST(MimeBodyStructure, DigestDefaultsToMessageRfc822) {
  const std::string raw = crlf(
      "Content-Type: multipart/digest; boundary=d\n"
      "\n"
      "--d\n"
      "\n"
      "Subject: one\n"
      "\n"
      "1\n"
      "--d\n"
      "Content-Type: text/plain\n"
      "\n"
      "not a message\n"
      "--d--\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(
      m.body,
      R"x((("message" "rfc822" NIL NIL NIL "7bit" 17 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) )x"
      R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0) 2))x"
      R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 0) "digest"))x");
  EXPECT_TRUE(part(m, "1").is_message);
  EXPECT_EQ(part(m, "1").type, "message");
  EXPECT_EQ(body_of(raw, part(m, "1.1")), "1");
}

// "1*body" must hold even when no body part is found.
TEST(MimeBodyStructure, MultipartWithoutBodyParts) {
  for (const char* header : {"Content-Type: multipart/mixed\n",  // no boundary at all
                             "Content-Type: multipart/mixed; boundary=never\n"}) {
    SCOPED_TRACE(header);
    const std::string raw = crlf(std::string(header) + "\njust text\n");
    const MessageMetadata m = analyze_message(raw);
    EXPECT_TRUE(m.body.starts_with(
        R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")x"))
        << m.body;
    ASSERT_EQ(m.parts.size(), 2u);
    EXPECT_EQ(body_of(raw, part(m, "1")), "");
  }
}

TEST(MimeBodyStructure, MissingCloseDelimiterRunsToTheEnd) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "\n"
      "last part, never closed\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(body_of(raw, part(m, "1")), "last part, never closed\r\n");
}

// RFC 2046 §5.1.2: an outer delimiter ends an inner multipart that lacks its close.
TEST(MimeBodyStructure, OuterDelimiterEndsInnerMultipart) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "\n"
      "a\n"
      "--outer\n"
      "\n"
      "b\n"
      "--outer--\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(m.body,
            R"x(((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0) "alternative"))x"
            R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0) "mixed"))x");
  EXPECT_EQ(body_of(raw, part(m, "1.1")), "a");
  EXPECT_EQ(body_of(raw, part(m, "1")), "--inner\r\n\r\na");
  EXPECT_EQ(body_of(raw, part(m, "2")), "b");
}

// RFC 2046 §5.1.1: transport padding after a delimiter, and (per its note to
// implementors) anything else after the boundary on the line, still makes a delimiter.
TEST(MimeBodyStructure, DelimiterLinesMatchByPrefix) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "preamble\n"
      "--b   \n"
      "\n"
      "one\n"
      "--b trailing junk\n"
      "\n"
      "two\n"
      "--b--  \n"
      "epilogue\n"
      "--b\n"
      "\n"
      "not a part: after the close delimiter\n");
  const MessageMetadata m = analyze_message(raw);
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(body_of(raw, part(m, "1")), "one");
  EXPECT_EQ(body_of(raw, part(m, "2")), "two");
  EXPECT_EQ(part(m, "").body_end, raw.size());
}

// With nested boundaries where one is a prefix of the other, the longest match wins.
TEST(MimeBodyStructure, LongestBoundaryWins) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=ab\n"
      "\n"
      "--ab\n"
      "Content-Type: multipart/mixed; boundary=abc\n"
      "\n"
      "--abc\n"
      "\n"
      "inner\n"
      "--abc--\n"
      "--ab--\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(body_of(raw, part(m, "1.1")), "inner");
  EXPECT_EQ(body_of(raw, part(m, "1")), "--abc\r\n\r\ninner\r\n--abc--");
}

// A delimiter right after a part's header fields (no blank line): the part has an
// empty body, and the line break before the delimiter is the delimiter's.
TEST(MimeBodyStructure, DelimiterInsideHeader) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/html\n"
      "--b\n"
      "Content-Type: message/rfc822\n"
      "--b--\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(mime_header_of(raw, part(m, "1")), "Content-Type: text/html");
  EXPECT_EQ(body_of(raw, part(m, "1")), "");
  EXPECT_TRUE(part(m, "2").is_message);
  EXPECT_EQ(body_of(raw, part(m, "2")), "");
  EXPECT_EQ(body_of(raw, part(m, "2.1")), "");
  test::expect_offsets_valid(m);
}

TEST(MimeBodyStructure, ExtensionData) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "Content-Disposition: inline\n"
      "Content-Language: en\n"
      "\n"
      "--b\n"
      "Content-Type: application/octet-stream; name=\"report.bin\"\n"
      "Content-ID: <part1@example.org>\n"
      "Content-Description: =?utf-8?q?R=C3=A9sum=C3=A9?=\n"
      "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
      "Content-Disposition: attachment; filename=\"report.bin\";\n"
      " size=4\n"
      "Content-Language: en-GB, de (German)\n"
      "Content-Location: http://example.org/\n"
      "  report.bin\n"
      "Content-Transfer-Encoding: BASE64\n"
      "\n"
      "AAAA\n"
      "--b--\n");
  const MessageMetadata m = analyze_message(raw);
  // Content-Description stays raw (RFC 9051 returns header text undecoded); the encoding
  // keeps its case; Content-Language is a list (RFC 3282); Content-Location is unfolded.
  EXPECT_EQ(m.bodystructure,
            R"x((("application" "octet-stream" ("name" "report.bin") "<part1@example.org>" )x"
            R"x("=?utf-8?q?R=C3=A9sum=C3=A9?=" "BASE64" 4 "Q2hlY2sgSW50ZWdyaXR5IQ==" )x"
            R"x(("attachment" ("filename" "report.bin" "size" "4")) ("en-GB" "de") )x"
            R"x("http://example.org/  report.bin"))x"
            R"x( "mixed" ("boundary" "b") ("inline" NIL) ("en") NIL))x");
  EXPECT_EQ(part(m, "1").encoding, TransferEncoding::base64);
}

TEST(MimeBodyStructure, TransferEncodingThatIsNotATokenIsSevenBit) {
  const std::string raw = crlf("Content-Transfer-Encoding: ?invalid\n\nx");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(m.body, R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0))x");
  const std::string uu = crlf("Content-Transfer-Encoding: x-uuencode\n\nx");
  EXPECT_EQ(part(analyze_message(uu), "1").encoding, TransferEncoding::unknown);
}

// Hostile nesting stays bounded and still yields a valid structure.
TEST(MimeBodyStructure, DeepNestingIsBounded) {
  // Boundaries "b<i>x": none is a prefix of another, so every level nests.
  std::string raw;
  const int depth = 300;
  for (int i = 0; i < depth; ++i) {
    const std::string boundary = "b" + std::to_string(i) + "x";
    raw += "Content-Type: multipart/mixed; boundary=" + boundary + "\r\n\r\n--" + boundary + "\r\n";
  }
  raw += "\r\ndeep\r\n";
  const MessageMetadata m = analyze_message(raw);
  test::expect_offsets_valid(m);
  EXPECT_LE(m.parts.size(), MimeScanner::kMaxDepth + 2);
  EXPECT_EQ(m.parts.back().type, "application");  // the level past the limit is opaque
  EXPECT_EQ(m.parts.back().subtype, "octet-stream");

  std::string messages;
  for (int i = 0; i < depth; ++i) messages += "Content-Type: message/rfc822\r\n\r\n";
  const MessageMetadata n = analyze_message(messages);
  test::expect_offsets_valid(n);
  EXPECT_LE(n.parts.size(), MimeScanner::kMaxDepth + 2);
}

TEST(MimeBodyStructure, ManyPartsAreBounded) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 30000; ++i) raw += "--b\r\n\r\nx\r\n";
  raw += "--b--\r\n";
  const MessageMetadata m = analyze_message(raw);
  test::expect_offsets_valid(m);
  EXPECT_LE(m.parts.size(), MimeScanner::kMaxEntities + 1);
  EXPECT_EQ(part(m, "").body_end, raw.size());
}

}  // namespace
}  // namespace postamt::mime
