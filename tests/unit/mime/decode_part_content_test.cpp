// FETCH BINARY content decoding (RFC 3516) of base64 (RFC 2045 §6.8) and
// quoted-printable (RFC 2045 §6.7).
#include "mime/decode_part_content.hpp"

#include <gtest/gtest.h>

#include <string>

#include "mime/analyze_message.hpp"
#include "mime/base64_decoder.hpp"
#include "mime/quoted_printable_decoder.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

TEST(MimeBase64, DecodesLeniently) {
  EXPECT_EQ(decode_base64("aGVsbG8gd29ybGQ="), "hello world");
  EXPECT_EQ(decode_base64("aGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n"), "hello world");
  // Characters outside the alphabet are ignored (§6.8).
  EXPECT_EQ(decode_base64("aGV*sb!G8"), "hello");
  // Missing padding still yields the octets of the last group; a lone character none.
  EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64("aGVsbA"), "hell");
  EXPECT_EQ(decode_base64("aGVsbAx"), "hell\x0c");
  EXPECT_EQ(decode_base64("aGVsb"), "hel");
  // "=" ends the data.
  EXPECT_EQ(decode_base64("aGk=aGk="), "hi");
  EXPECT_EQ(decode_base64(""), "");
  for (std::string_view s :
       {"aGVsbG8gd29ybGQ=", "aGVsbG8", "aGVsbA", "aGVsb", "a", "", "=", "aGk=aGk="}) {
    EXPECT_EQ(decoded_base64_size(s), decode_base64(s).size()) << s;
  }
}

TEST(MimeQuotedPrintable, DecodesPerRfc2045) {
  EXPECT_EQ(decode_quoted_printable("a=3Db=3db"), "a=b=b");
  // Soft line breaks, with CRLF or bare LF, and with transport padding after the "=".
  EXPECT_EQ(decode_quoted_printable("soft=\r\nbreak= \t\r\nhere=\nend"), "softbreakhereend");
  // Trailing white space is transport padding (rule 3); hard line breaks stay.
  EXPECT_EQ(decode_quoted_printable("line one   \r\nline two\t\r\n"), "line one\r\nline two\r\n");
  EXPECT_EQ(decode_quoted_printable("keep =20\r\n"), "keep  \r\n");
  // Malformed escapes are kept as they are.
  EXPECT_EQ(decode_quoted_printable("bad=ZZ =4"), "bad=ZZ =4");
  EXPECT_EQ(decode_quoted_printable("ends with soft break="), "ends with soft break");
  EXPECT_EQ(decode_quoted_printable("\xE9t\xE9=C3=A9"), "\xE9t\xE9\xC3\xA9");
}

TEST(MimeDecodePart, ThroughAnalyzedMessage) {
  const std::string raw = test::crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "aGVsbG8g\n"
      "d29ybGQ=\n"
      "--b\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "caf=C3=A9 =\n"
      "au lait\n"
      "--b\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "raw \xE9\n"
      "--b\n"
      "Content-Transfer-Encoding: x-uuencode\n"
      "\n"
      "begin 644 x\n"
      "--b--\n");
  const MessageMetadata m = analyze_message(raw);
  EXPECT_EQ(decode_part_content(raw, test::part(m, "1")).value(), "hello world");
  EXPECT_EQ(binary_size(raw, test::part(m, "1")).value(), 11u);
  EXPECT_EQ(decode_part_content(raw, test::part(m, "2")).value(), "caf\xC3\xA9 au lait");
  EXPECT_EQ(binary_size(raw, test::part(m, "2")).value(), 13u);
  EXPECT_EQ(decode_part_content(raw, test::part(m, "3")).value(), "raw \xE9");
  EXPECT_EQ(binary_size(raw, test::part(m, "3")).value(), 5u);
  const auto unknown = decode_part_content(raw, test::part(m, "4"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error(), kUnknownTransferEncoding);
  EXPECT_FALSE(binary_size(raw, test::part(m, "4")).has_value());
}

TEST(MimeDecodePart, OffsetsThatDoNotFitFail) {
  PartInfo p;
  p.header_end = 5;
  p.body_end = 50;
  const auto decoded = decode_part_content("short", p);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error(), kUnknownTransferEncoding);
  p.header_end = 4;
  p.body_end = 2;
  EXPECT_FALSE(binary_size("short", p).has_value());
}

}  // namespace
}  // namespace postamt::mime
