// searchable_body_text / searchable_header_text and the SearchString matcher.
#include <gtest/gtest.h>

#include <glib.h>

#include <string>

#include "imap/message/message_text.hpp"
#include "imap/message/search_string.hpp"
#include "imap_message_test_support.hpp"
#include "sample_messages.hpp"

namespace postamt::imap {
namespace {

using namespace test;

bool valid_utf8(const std::string& s) {
  return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr);
}

TEST(MessageText, BodyTextOfEveryTextPartDecoded) {
  const StoredMessage message(kSampleMessage);
  const std::string text = searchable_body_text(message.raw, message.metadata);
  EXPECT_EQ(text,
            "Grüße aus Köln: äpfel sind grün.\n"
            "<p>Hallo Welt &amp; mehr: Straße</p>\n"
            "Inner body text.\n"
            "begin 644 x\n");
}

TEST(MessageText, SinglePartBodyOnce) {
  const StoredMessage message(kPlainMessage);
  EXPECT_EQ(searchable_body_text(message.raw, message.metadata), "Just one line.\r\n\n");
}

TEST(MessageText, CharsetsConvertedToUtf8) {
  const StoredMessage message(load_vector("stalwart-thirdparty-005-utf16-eucjp.eml"));
  const std::string text = searchable_body_text(message.raw, message.metadata);
  EXPECT_EQ(text, "Test message\n\nTest message\n\nTest message\n\n『世界人権宣言』\ninvalid--1--\n\n");
  const StoredMessage flowed(load_vector("mimekit-flowed-delsp-iso8859-1.eml"));
  const std::string flowed_text = searchable_body_text(flowed.raw, flowed.metadata);
  EXPECT_NE(flowed_text.find("a \"You do not currently have access to this content.\""),
            std::string::npos)
      << flowed_text;
}

TEST(MessageText, UnknownCharsetAndInvalidOctetsStaySearchable) {
  const StoredMessage message(crlf(std::string(
      "Content-Type: text/plain; charset=x-no-such-charset\n"
      "\n"
      "caf\xE9 ol\xE9 with \0 nul\n", 73)));
  const std::string text = searchable_body_text(message.raw, message.metadata);
  EXPECT_TRUE(valid_utf8(text));
  EXPECT_EQ(text.find('\0'), std::string::npos);
  EXPECT_NE(text.find("caf\xEF\xBF\xBD ol"), std::string::npos) << text;  // U+FFFD
  EXPECT_NE(text.find("nul"), std::string::npos);
}

TEST(MessageText, NonTextPartsAreLeftOut) {
  const StoredMessage message(crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: image/png\n"
      "\n"
      "PNGDATA\n"
      "--b\n"
      "Content-Type: application/pdf\n"
      "\n"
      "PDFDATA\n"
      "--b--\n"));
  EXPECT_EQ(searchable_body_text(message.raw, message.metadata), "");
}

TEST(MessageText, BoundedAtCharacterBoundary) {
  const StoredMessage message(kSampleMessage);
  // "Grüße": G r ü(2) ß(2) e -> a cut at 5 octets must not split "ß"; the part's
  // closing "\n" still fits.
  const std::string cut = searchable_body_text(message.raw, message.metadata, 5);
  EXPECT_EQ(cut, "Grü\n");
  EXPECT_TRUE(valid_utf8(cut));
  for (std::size_t limit = 0; limit < 120; ++limit) {
    const std::string text = searchable_body_text(message.raw, message.metadata, limit);
    EXPECT_LE(text.size(), limit);
    EXPECT_TRUE(valid_utf8(text));
  }
}

TEST(MessageText, LargeBodyIsCapped) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "line of text number " + std::to_string(i) + "\r\n";
  const StoredMessage message(crlf("Subject: big\n\n") + body);
  const std::string text = searchable_body_text(message.raw, message.metadata, 1000);
  EXPECT_EQ(text, body.substr(0, 1000));
}

TEST(MessageText, HeaderTextDecodedAndUnfolded) {
  const std::string text = searchable_header_text(kSampleMessage);
  EXPECT_NE(text.find("From: Jörg Müller <joerg@example.com>\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: ÄPFEL und Birnen\n"), std::string::npos);
  EXPECT_NE(text.find("X-Folded: first part second part\n"), std::string::npos);
  EXPECT_EQ(text.find("Inner"), std::string::npos);  // the header only
  EXPECT_EQ(text.find("Gr=FC"), std::string::npos);
  EXPECT_LE(searchable_header_text(kSampleMessage, 10).size(), 10u);
}

TEST(SearchString, CaseFolding) {
  EXPECT_TRUE(SearchString("ÄPFEL").found_in("grüne äpfel"));
  EXPECT_TRUE(SearchString("äpfel").found_in("GRÜNE ÄPFEL"));
  EXPECT_TRUE(SearchString("STRASSE").found_in("Hauptstraße 5"));
  EXPECT_TRUE(SearchString("ΣΟΦΊΑ").found_in("σοφία"));
  EXPECT_TRUE(SearchString("hello").found_in("Say HELLO"));
  EXPECT_TRUE(SearchString("").found_in(""));
  EXPECT_TRUE(SearchString("").found_in("anything"));
  EXPECT_FALSE(SearchString("apfel").found_in("äpfel"));
  EXPECT_FALSE(SearchString("hello!").found_in("hello"));
  EXPECT_FALSE(SearchString("x").found_in(""));
}

TEST(SearchString, InvalidUtf8InTheText) {
  EXPECT_TRUE(SearchString("after").found_in("before \xFF\xFE AFTER"));
  EXPECT_TRUE(SearchString("ü").found_in(std::string("\xFF\0\xC3\x9C", 4)));
}

}  // namespace
}  // namespace postamt::imap
