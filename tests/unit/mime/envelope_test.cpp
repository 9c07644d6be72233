// ENVELOPE (RFC 9051 §7.5.2) for hand-made headers.
#include <gtest/gtest.h>

#include <string>

#include "mime/analyze_message.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

std::string envelope_of(const std::string& header) {
  return analyze_message(test::crlf(header + "\nbody\n")).envelope;
}

TEST(MimeEnvelope, AllFieldsRaw) {
  EXPECT_EQ(
      envelope_of("Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
                  "From: Terry Gray <gray@cac.washington.edu>\n"
                  "Subject: IMAP4rev1 WG mtg summary and minutes\n"
                  "To: imap@cac.washington.edu\n"
                  "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\n"
                  "Bcc: hidden@example.org\n"
                  "In-Reply-To: <parent@example.org>\n"
                  "Message-Id: <B27397-0100000@cac.washington.edu>\n"),
      // The example of RFC 9051 §7.5.2 (FETCH response), plus Bcc and In-Reply-To.
      R"x(("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" )x"
      R"x((("Terry Gray" NIL "gray" "cac.washington.edu")) )x"
      R"x((("Terry Gray" NIL "gray" "cac.washington.edu")) )x"
      R"x((("Terry Gray" NIL "gray" "cac.washington.edu")) )x"
      R"x(((NIL NIL "imap" "cac.washington.edu")) )x"
      R"x(((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) )x"
      R"x(((NIL NIL "hidden" "example.org")) "<parent@example.org>" )x"
      R"x("<B27397-0100000@cac.washington.edu>"))x");
}

TEST(MimeEnvelope, AbsentFieldsAreNil) {
  EXPECT_EQ(envelope_of("X-Other: 1\n"), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  // Present but empty: strings are "", address lists without addresses NIL.
  EXPECT_EQ(envelope_of("Subject:\nTo:   \nFrom: \n"),
            R"x((NIL "" NIL NIL NIL NIL NIL NIL NIL NIL))x");
}

// "If the Sender or Reply-To lines are absent in the [RFC-5322] header, or are present but
// empty, the server sets the corresponding member of the envelope to be the same value as
// the from member" (RFC 9051 §7.5.2).
TEST(MimeEnvelope, SenderAndReplyToDefaultToFrom) {
  EXPECT_EQ(
      envelope_of("From: a@x.org\nSender:\nReply-To: r@y.org\n"),
      R"x((NIL NIL ((NIL NIL "a" "x.org")) ((NIL NIL "a" "x.org")) ((NIL NIL "r" "y.org")) NIL NIL NIL NIL NIL))x");
  EXPECT_EQ(
      envelope_of("From: a@x.org\nSender: s@x.org\n"),
      R"x((NIL NIL ((NIL NIL "a" "x.org")) ((NIL NIL "s" "x.org")) ((NIL NIL "a" "x.org")) NIL NIL NIL NIL NIL))x");
}

// Group syntax: a group-start address (NIL NIL "name" NIL) and a group-end (NIL NIL NIL NIL).
TEST(MimeEnvelope, Groups) {
  EXPECT_EQ(
      envelope_of("To: A Group: a@x.org, \"B\" <b@y.org>;, c@z.org\n"),
      R"x((NIL NIL NIL NIL NIL ((NIL NIL "A Group" NIL)(NIL NIL "a" "x.org")("B" NIL "b" "y.org"))x"
      R"x((NIL NIL NIL NIL)(NIL NIL "c" "z.org")) NIL NIL NIL NIL))x");
  EXPECT_EQ(
      envelope_of("To: undisclosed-recipients:;\n"),
      R"x((NIL NIL NIL NIL NIL ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))x");
  // An unterminated group is closed at the end of the field.
  EXPECT_EQ(
      envelope_of("Cc: team: a@x.org\n"),
      R"x((NIL NIL NIL NIL NIL NIL ((NIL NIL "team" NIL)(NIL NIL "a" "x.org")(NIL NIL NIL NIL)) NIL NIL NIL))x");
}

// ENVELOPE carries header text raw: RFC 2047 encoded words are not decoded.
TEST(MimeEnvelope, EncodedWordsStayRaw) {
  const std::string envelope = envelope_of(
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?b?S/Zsbg==?=\n"
      "From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\n");
  EXPECT_EQ(envelope,
            R"x((NIL "=?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?b?S/Zsbg==?=" )x"
            R"x((("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) )x"
            R"x((("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) )x"
            R"x((("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) NIL NIL NIL NIL NIL))x");
  // ... while the search values are decoded.
  const MessageMetadata m = analyze_message(
      test::crlf("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?b?S/Zsbg==?=\n"
                 "From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\n\n"));
  EXPECT_EQ(m.subject,
            "Gr\xC3\xBC\xC3\x9F"
            "e aus K\xC3\xB6ln");
  EXPECT_EQ(m.from, "J\xC3\xBCrgen <j@example.de>");
}

// Quoted strings escape '"' and '\' (RFC 9051 §4.3); display names are unquoted first.
TEST(MimeEnvelope, QuotingOfSpecials) {
  EXPECT_EQ(envelope_of("Subject: He said \"hi\" \\o/\n"
                        "From: \"Doe, John \\\"JD\\\" \\\\ Jr\" <john@example.org>\n"),
            R"x((NIL "He said \"hi\" \\o/" )x"
            R"x((("Doe, John \"JD\" \\ Jr" NIL "john" "example.org")) )x"
            R"x((("Doe, John \"JD\" \\ Jr" NIL "john" "example.org")) )x"
            R"x((("Doe, John \"JD\" \\ Jr" NIL "john" "example.org")) NIL NIL NIL NIL NIL))x");
}

// 8-bit text (RFC 6532 UTF-8 headers, or raw Latin-1) goes into literals; so does NUL,
// replaced by U+FFFD since IMAP strings cannot carry it.
TEST(MimeEnvelope, LiteralsForEightBitAndNul) {
  EXPECT_EQ(envelope_of("Subject: caf\xC3\xA9\n"),
            "(NIL {5}\r\ncaf\xC3\xA9 NIL NIL NIL NIL NIL NIL NIL NIL)");
  EXPECT_TRUE(envelope_of("From: J\xC3\xBCrgen <j@\xC3\xBC.de>\n")
                  .starts_with("(NIL NIL (({7}\r\nJ\xC3\xBCrgen NIL \"j\" {5}\r\n\xC3\xBC.de))"));
  EXPECT_EQ(envelope_of(std::string("Subject: a\0b\n", 13)),
            "(NIL {5}\r\na\xEF\xBF\xBD"
            "b NIL NIL NIL NIL NIL NIL NIL NIL)");
}

// Folded fields are unfolded (RFC 5322 §2.2.3); white space around the value is trimmed.
TEST(MimeEnvelope, FoldedValues) {
  EXPECT_EQ(
      envelope_of("Subject:  a folded\n\tsubject line  \nTo: x@example.org,\n y@example.org\n"),
      R"x((NIL "a folded	subject line" NIL NIL NIL ((NIL NIL "x" "example.org")(NIL NIL "y" "example.org")) NIL NIL NIL NIL))x");
}

TEST(MimeEnvelope, FirstOccurrenceWins) {
  EXPECT_EQ(envelope_of("Subject: first\nSubject: second\n"),
            R"x((NIL "first" NIL NIL NIL NIL NIL NIL NIL NIL))x");
}

TEST(MimeEnvelope, HeaderNamesAreCaseInsensitive) {
  EXPECT_EQ(envelope_of("SUBJECT: s\nmessage-id: <m@x>\n"),
            R"x((NIL "s" NIL NIL NIL NIL NIL NIL NIL "<m@x>"))x");
}

}  // namespace
}  // namespace postamt::mime
