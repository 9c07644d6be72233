// 8BITMIME downgrade (RFC 6152 §3): the converted message is 7-bit, has no line over 998
// octets, keeps every 7-bit part byte for byte, and decodes (with our decoders and with
// GMime's) to exactly the content of the original.
#include "mime/eightbit_downgrade.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "mime/analyze_message.hpp"
#include "mime/decode_part_content.hpp"
#include "mime/quoted_printable_decoder.hpp"
#include "mime/transfer_encoders.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

using test::crlf;

bool all_7bit(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::size_t longest_line(std::string_view s) {
  std::size_t longest = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      std::size_t length = i - start;
      if (length > 0 && s[i - 1] == '\r') --length;
      longest = std::max(longest, length);
      start = i + 1;
    }
  }
  return longest;
}

// The decoded content of every leaf, by section, as our own MIME analysis sees it.
std::vector<std::pair<std::string, std::string>> leaf_contents(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> leaves;
  const MessageMetadata metadata = analyze_message(raw);
  for (const PartInfo& p : metadata.parts) {
    if (p.section.empty() || p.type == "multipart" || p.is_message) continue;
    auto content = decode_part_content(raw, p);
    leaves.emplace_back(p.section + " " + p.type + "/" + p.subtype,
                        content ? *content : "<" + content.error() + ">");
  }
  return leaves;
}

// The same through GMime's parser and decoders.
void collect_gmime(GMimeObject* object, std::vector<std::string>& out) {
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      collect_gmime(g_mime_multipart_get_part(multipart, i), out);
    }
  } else if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* message = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (message != nullptr) collect_gmime(g_mime_message_get_mime_part(message), out);
  } else if (GMIME_IS_PART(object)) {
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));
    GMimeStream* stream = g_mime_stream_mem_new();
    if (content != nullptr) g_mime_data_wrapper_write_to_stream(content, stream);
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    out.emplace_back(reinterpret_cast<const char*>(bytes->data), bytes->len);
    g_object_unref(stream);
  }
}

std::vector<std::string> gmime_leaf_contents(std::string raw) {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  std::vector<std::string> leaves;
  if (message != nullptr) {
    collect_gmime(g_mime_message_get_mime_part(message), leaves);
    g_object_unref(message);
  }
  g_object_unref(parser);
  g_object_unref(stream);
  return leaves;
}

// Converts and checks everything that must hold for any successful conversion.
// `gmime_agrees` is false for input whose structure GMime reads differently from
// MimeScanner (the converted message makes MimeScanner's reading explicit).
std::string downgrade_and_check(std::string_view original, bool gmime_agrees = true) {
  auto converted = downgrade_to_7bit(original);
  EXPECT_TRUE(converted.has_value()) << converted.error().detail;
  if (!converted) return {};
  EXPECT_TRUE(all_7bit(*converted));
  EXPECT_LE(longest_line(*converted), 998u);
  EXPECT_EQ(leaf_contents(*converted), leaf_contents(original));
  if (gmime_agrees) {
    EXPECT_EQ(gmime_leaf_contents(*converted), gmime_leaf_contents(std::string(original)));
  }
  // Converting again changes nothing: the result is already 7-bit.
  auto again = downgrade_to_7bit(*converted);
  EXPECT_TRUE(again.has_value());
  if (again) {
    EXPECT_EQ(*again, *converted);
  }
  return *converted;
}

// ---- the encoders ----

TEST(QuotedPrintableEncoder, EncodesWhatRfc2045Section67Requires) {
  EXPECT_EQ(encode_quoted_printable("plain text\r\n"), "plain text\r\n");
  EXPECT_EQ(encode_quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(encode_quoted_printable("caf\xC3\xA9\r\n"), "caf=C3=A9\r\n");
  EXPECT_EQ(encode_quoted_printable("trailing \r\ntab\t"), "trailing=20\r\ntab=09");
  EXPECT_EQ(encode_quoted_printable("in side\tok"), "in side\tok");
  EXPECT_EQ(encode_quoted_printable("bare\nlf and\rcr"), "bare=0Alf and=0Dcr");
  EXPECT_EQ(encode_quoted_printable("--boundary\r\n-x"), "=2D-boundary\r\n=2Dx");
  EXPECT_EQ(encode_quoted_printable(std::string("\0\x7f", 2)), "=00=7F");
}

TEST(QuotedPrintableEncoder, SoftBreaksKeepLinesWithin76) {
  const std::string line(200, 'x');
  const std::string encoded = encode_quoted_printable(line + "\r\n");
  EXPECT_EQ(longest_line(encoded), 76u);
  EXPECT_EQ(decode_quoted_printable(encoded), line + "\r\n");
  // An escape is never split by a soft break, and no line after a break starts with "-".
  const std::string dashes(300, '-');
  const std::string encoded_dashes = encode_quoted_printable(dashes);
  EXPECT_LE(longest_line(encoded_dashes), 76u);
  EXPECT_EQ(encoded_dashes.find("\n-"), std::string::npos);
  EXPECT_EQ(decode_quoted_printable(encoded_dashes), dashes);
}

TEST(QuotedPrintableEncoder, RoundTripsRandomData) {
  std::mt19937 random(42);
  const std::string alphabet = std::string("ab -=.\t\r\n\xC3\xA9\x00\xff", 14);
  for (int round = 0; round < 300; ++round) {
    std::string data;
    const std::size_t size = random() % 400;
    for (std::size_t i = 0; i < size; ++i) data += alphabet[random() % alphabet.size()];
    const std::string encoded = encode_quoted_printable(data);
    ASSERT_EQ(decode_quoted_printable(encoded), data) << round;
    ASSERT_LE(longest_line(encoded), 76u);
    ASSERT_TRUE(all_7bit(encoded));
  }
}

TEST(Base64Lines, SplitsAt76) {
  const std::string data(200, '\xff');
  const std::string encoded = encode_base64_lines(data);
  EXPECT_EQ(longest_line(encoded), 76u);
  EXPECT_FALSE(encoded.ends_with("\r\n"));
  EXPECT_EQ(encode_base64_lines(""), "");
}

// ---- detection ----

TEST(EightBitDetection, FindsOctetsAbove127) {
  EXPECT_FALSE(needs_8bitmime(crlf("Subject: hi\n\nplain\n")));
  EXPECT_TRUE(needs_8bitmime(crlf("Subject: hi\n\ncaf\xC3\xA9\n")));
}

TEST(EightBitDetection, TellsHeadersFromBodies) {
  const auto body = find_8bit_use(crlf("Subject: hi\n\ncaf\xC3\xA9\n"));
  EXPECT_FALSE(body.in_headers);
  EXPECT_TRUE(body.in_bodies);
  const auto header = find_8bit_use(crlf("Subject: caf\xC3\xA9\n\nplain\n"));
  EXPECT_TRUE(header.in_headers);
  EXPECT_FALSE(header.in_bodies);
  // A body part's MIME header is a header block too (RFC 6532 filename="...").
  const auto part_header = find_8bit_use(crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Disposition: attachment; filename=\"\xC3\xA9.txt\"\n\nx\n--b--\n"));
  EXPECT_TRUE(part_header.in_headers);
  EXPECT_FALSE(part_header.in_bodies);
  const auto none = find_8bit_use("Subject: x\r\n\r\ny\r\n");
  EXPECT_FALSE(none.in_headers || none.in_bodies);
}

// ---- conversion ----

TEST(Downgrade, SevenBitMessageIsUnchanged) {
  const std::string message = crlf(
      "From: a@example.org\nSubject: hi\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\n\npreamble\n--b\n"
      "Content-Type: text/plain\n\nhello\n--b\nContent-Type: application/pdf\n"
      "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\nepilogue\n");
  auto converted = downgrade_to_7bit(message);
  ASSERT_TRUE(converted.has_value());
  EXPECT_EQ(*converted, message);
}

TEST(Downgrade, EightBitTextBecomesQuotedPrintable) {
  const std::string message = crlf(
      "From: a@example.org\nSubject: hi\nContent-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: 8bit\n\nGr\xC3\xBC\xC3\x9F" "e = greetings \n.\n");
  const std::string converted = downgrade_and_check(message);
  EXPECT_EQ(converted, crlf("From: a@example.org\nSubject: hi\n"
                            "Content-Type: text/plain; charset=utf-8\nMIME-Version: 1.0\n"
                            "Content-Transfer-Encoding: quoted-printable\n\n"
                            "Gr=C3=BC=C3=9Fe =3D greetings=20\n.\n"));
}

TEST(Downgrade, MixedMultipartConvertsOnlyEightBitParts) {
  const std::string seven_bit_part =
      crlf("Content-Type: text/plain; charset=us-ascii\n\nascii only\nsecond line");
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  const std::string message =
      crlf("From: a@example.org\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"=_x\"\n\n--=_x\n") +
      seven_bit_part +
      crlf("\n--=_x\nContent-Type: text/plain; charset=iso-8859-1\n"
           "Content-Transfer-Encoding: 8bit\n\nd\xE9j\xE0 vu\n--=_x\n"
           "Content-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n") +
      binary + crlf("\n--=_x--\n");
  const std::string converted = downgrade_and_check(message);
  EXPECT_NE(converted.find(seven_bit_part), std::string::npos);
  EXPECT_NE(converted.find("Content-Transfer-Encoding: quoted-printable\r\n\r\nd=E9j=E0 vu\r\n"),
            std::string::npos);
  EXPECT_NE(converted.find("Content-Type: application/octet-stream\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQF"),
            std::string::npos);
  EXPECT_EQ(converted.find("binary"), std::string::npos);
  EXPECT_EQ(converted.find("8bit"), std::string::npos);
}

TEST(Downgrade, RecursesIntoMessageRfc822AndRelabelsIt) {
  const std::string message = crlf(
      "From: a@example.org\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
      "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
      "From: b@example.org\nSubject: inner\nMIME-Version: 1.0\n"
      "Content-Type: multipart/alternative; boundary=inner\n\n--inner\n"
      "Content-Type: text/plain; charset=utf-8\n\n\xE2\x82\xAC 10\n--inner\n"
      "Content-Type: text/html; charset=utf-8\n\n<p>\xE2\x82\xAC 10</p>\n--inner--\n"
      "\n--outer--\n");
  const std::string converted = downgrade_and_check(message);
  EXPECT_NE(converted.find("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                           "From: b@example.org\r\n"),
            std::string::npos);
  EXPECT_NE(converted.find("=E2=82=AC 10\r\n--inner\r\n"), std::string::npos);
  EXPECT_NE(converted.find("<p>=E2=82=AC 10</p>\r\n--inner--"), std::string::npos);
}

TEST(Downgrade, CleanPartLabelled8bitOnlyChangesItsLabel) {
  const std::string message = crlf(
      "Subject: x\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8BIT\n\nascii\n");
  EXPECT_EQ(downgrade_and_check(message),
            crlf("Subject: x\nMIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\n\nascii\n"));
}

TEST(Downgrade, RelabelledHeaderCutByDelimiterStaysCut) {
  // RFC 2046 §5.1.1: a body part may end right after its header, without the blank line.
  const std::string message = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: 8bit\n--b--\n");
  EXPECT_EQ(downgrade_and_check(message),
            crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n"
                 "Content-Transfer-Encoding: 7bit\n--b--\n"));
}

TEST(Downgrade, NulOctetsAreNotSevenBitData) {
  const std::string message = std::string("Content-Type: application/x-thing\r\n"
                                          "Content-Transfer-Encoding: binary\r\n\r\na\0b", 75);
  const std::string converted = downgrade_and_check(message);
  EXPECT_NE(converted.find("Content-Transfer-Encoding: base64\r\n\r\nYQBi"), std::string::npos);
}

TEST(Downgrade, LongLinesAreEncodedToo) {
  const std::string long_line(3000, 'a');
  const std::string message = "Subject: x\r\n\r\n" + long_line + "\r\n";
  const std::string converted = downgrade_and_check(message);
  EXPECT_NE(converted.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(converted.find("MIME-Version: 1.0\r\n"), std::string::npos);
}

TEST(Downgrade, FoldedTransferEncodingFieldIsReplacedWhole) {
  const std::string message = crlf(
      "Subject: x\nContent-Transfer-Encoding:\n 8bit\nX-After: kept\n\n\xC3\xA9\n");
  const std::string converted = downgrade_and_check(message);
  EXPECT_EQ(converted, crlf("Subject: x\nX-After: kept\nMIME-Version: 1.0\n"
                            "Content-Transfer-Encoding: quoted-printable\n\n=C3=A9\n"));
}

TEST(Downgrade, BrokenBase64AndQuotedPrintableAreReencodedInPlace) {
  // 8-bit junk where only 7-bit may be: decoders skip (base64) or keep (qp) it, and the
  // conversion must not change what they see.
  const std::string message = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBO\xFFRw0K\n--b\n"
      "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
      "a=3Db \xE9\n--b--\n");
  const std::string converted = downgrade_and_check(message);
  EXPECT_NE(converted.find("Content-Transfer-Encoding: base64\r\n\r\niVBORw0K"), std::string::npos);
  EXPECT_NE(converted.find("a=3Db =E9"), std::string::npos);
}

TEST(Downgrade, EightBitPreambleAndEpilogueAreCut) {
  const std::string message = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\nPr\xC3\xA4" "ambel\n--b\n\nx\n--b--\n"
      "Epilog \xC3\xA4 end\n");
  const std::string converted = downgrade_and_check(message);
  EXPECT_EQ(converted, crlf("Content-Type: multipart/mixed; boundary=b\n\nPr\n--b\n\nx\n--b--\n"
                            "Epilog \n"));
}

TEST(Downgrade, EightBitHeaderCannotBeConverted) {
  auto result = downgrade_to_7bit(crlf("Subject: caf\xC3\xA9\n\nbody\xC3\xA9\n"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::eight_bit_header);
  EXPECT_EQ(result.error().enhanced_status(), "5.6.3");

  auto part = downgrade_to_7bit(crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: text/plain; name=\"\xC3\xA9\"\n\nx\n--b--\n"));
  ASSERT_FALSE(part.has_value());
  EXPECT_EQ(part.error().kind, DowngradeError::Kind::eight_bit_header);
}

TEST(Downgrade, OverlongHeaderLineIsRefused) {
  auto result = downgrade_to_7bit("X-Long: " + std::string(1200, 'h') + "\r\n\r\n\xC3\xA9\r\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::header_line_too_long);
}

std::string nested_multiparts(int depth, std::string_view leaf) {
  std::string message;
  for (int i = 0; i < depth; ++i) {
    message += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
               std::to_string(i) + "\r\n";
  }
  message += "Content-Type: text/plain\r\n\r\n" + std::string(leaf);
  for (int i = depth; i-- > 0;) message += "\r\n--b" + std::to_string(i) + "--";
  return message + "\r\n";
}

TEST(Downgrade, NestingIsBounded) {
  const std::string shallow = nested_multiparts(10, "caf\xC3\xA9");
  downgrade_and_check(shallow);

  const std::string deep = nested_multiparts(40, "caf\xC3\xA9");
  auto result = downgrade_to_7bit(deep);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::too_deep);
  DowngradeLimits limits;
  limits.max_depth = 50;
  EXPECT_TRUE(downgrade_to_7bit(deep, limits).has_value());

  // Past MimeScanner's own depth the inner structure is opaque: refused, not guessed at.
  const std::string deeper = nested_multiparts(80, "caf\xC3\xA9");
  limits.max_depth = 1000;
  result = downgrade_to_7bit(deeper, limits);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::too_deep);
}

TEST(Downgrade, OutputSizeIsBounded) {
  const std::string message = "Subject: x\r\n\r\n" + std::string(10000, '\xE9') + "\r\n";
  DowngradeLimits limits;
  limits.max_output_size = 20000;
  auto result = downgrade_to_7bit(message, limits);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::too_large);
  EXPECT_EQ(result.error().enhanced_status(), "5.3.4");
  limits.max_output_size = 40000;
  EXPECT_TRUE(downgrade_to_7bit(message, limits).has_value());
}

TEST(Downgrade, UnknownEncodingWithEightBitDataIsRefused) {
  auto result = downgrade_to_7bit(crlf(
      "Content-Type: application/octet-stream\nContent-Transfer-Encoding: x-uuencode\n\n"
      "begin \xFF\n"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::unknown_encoding);
}

TEST(Downgrade, SignedContentIsNotTouched) {
  auto result = downgrade_to_7bit(crlf(
      "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\n"
      "--s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
      "\xC3\xA9\n--s\nContent-Type: application/pgp-signature\n\nsig\n--s--\n"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::signed_content);
}

TEST(Downgrade, MessagePartialCannotBeEncoded) {
  auto result = downgrade_to_7bit(crlf(
      "Content-Type: message/partial; id=x; number=1\n\n\xC3\xA9\n"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DowngradeError::Kind::malformed);
}

TEST(Downgrade, PartsWithoutHeaderOrBlankLine) {
  // A body part with no header at all, and a message whose body follows without the
  // blank line: both get a header and the blank line, and decode the same.
  downgrade_and_check(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n\xC3\xA9\n--b--\n"));
  // (GMime takes the line for a broken header field; MimeScanner, like Dovecot, for the body.)
  const std::string converted = downgrade_and_check(crlf("Subject: x\n\xC3\xA9 is not a header\n"), false);
  EXPECT_EQ(converted, crlf("Subject: x\nMIME-Version: 1.0\n"
                            "Content-Transfer-Encoding: quoted-printable\n\n=C3=A9 is not a header\n"));
  downgrade_and_check("Subject: x\r\n\r\nno final line break \xC3\xA9");
}

TEST(Downgrade, EncapsulatedMessageWithoutHeaderAfterOpenPartHeader) {
  // Found by fuzzing: the part header ends at a line that is no field, without an empty
  // line, so the encapsulated message has an empty header. Its new fields must not join
  // the part's header.
  const std::string message = crlf(
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
      "Content-Type: message/rfc822\nnot a field\n\n\xE2\x82\xAC 10\n--outer--\n");
  const std::string converted = downgrade_and_check(message, false);
  EXPECT_NE(converted.find("Content-Type: message/rfc822\r\n\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                           "not a field\r\n\r\n=E2=82=AC 10\r\n--outer--"),
            std::string::npos)
      << converted;
}

TEST(Downgrade, EightBitPreambleEndingAnOpenHeader) {
  // Found by fuzzing: the multipart's header ends at its first preamble line (no empty
  // line). Cut to nothing, that line would become the empty line and change the parse.
  const std::string message = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: multipart/mixed; boundary=b\n\xC3\xA9\n--b\n\nin\xC3\xA9ner\n--b--\n");
  const std::string converted = downgrade_and_check(message, false);
  EXPECT_NE(converted.find("boundary=b\r\n\r\n\r\n--b\r\n"), std::string::npos) << converted;
}

TEST(Downgrade, DigestPartsDefaultToMessages) {
  downgrade_and_check(crlf(
      "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
      "Subject: one\n\n\xC3\xA9t\xC3\xA9\n--d\n\nSubject: two\n\nplain\n--d--\n"));
}

// The public test vectors, stored with CRLF as the queue stores messages: each converts
// (or is refused for 8-bit headers) and keeps every part's decoded content.
TEST(Downgrade, TestVectorsStaySemanticallyEqual) {
  for (const std::string& name : test::vector_names()) {
    SCOPED_TRACE(name);
    std::string raw = test::load_vector(name);
    std::string normalized;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) normalized += '\r';
      normalized += raw[i];
    }
    const EightBitUse use = find_8bit_use(normalized);
    if (use.in_headers) {
      auto result = downgrade_to_7bit(normalized);
      ASSERT_FALSE(result.has_value());
      EXPECT_EQ(result.error().kind, DowngradeError::Kind::eight_bit_header);
      continue;
    }
    downgrade_and_check(normalized);
  }
}

}  // namespace
}  // namespace postamt::mime
