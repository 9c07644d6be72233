// SMTP client side: the reply parser (RFC 5321 §4.2, RFC 2034 status codes) and the
// EHLO keyword reader.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/smtp/client_capabilities.hpp"
#include "proto/smtp/reply_parser.hpp"

namespace postamt::proto::smtp {
namespace {

std::vector<Reply> parse_all(ReplyParser& parser) {
  std::vector<Reply> replies;
  while (auto reply = parser.next_reply()) {
    if (!*reply) break;
    replies.push_back(**reply);
  }
  return replies;
}

std::optional<ReplyError> error_of(std::string_view bytes) {
  ReplyParser parser;
  parser.feed(bytes);
  while (auto reply = parser.next_reply()) {
    if (!*reply) return reply->error();
  }
  return std::nullopt;
}

TEST(SmtpReplyParser, SingleLineWithStatusCode) {
  ReplyParser parser;
  parser.feed("250 2.1.5 Ok\r\n");
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].code, 250u);
  EXPECT_EQ(replies[0].status, "2.1.5");
  EXPECT_EQ(replies[0].text, "Ok");
  EXPECT_TRUE(replies[0].positive());
}

TEST(SmtpReplyParser, ClassifiesCodes) {
  ReplyParser parser;
  parser.feed("451 4.3.0 later\r\n550 5.1.1 no such user\r\n354 go ahead\r\n");
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_TRUE(replies[0].transient_failure());
  EXPECT_TRUE(replies[1].permanent_failure());
  EXPECT_EQ(replies[1].status, "5.1.1");
  EXPECT_EQ(replies[2].code, 354u);
  EXPECT_EQ(replies[2].status, "");
  EXPECT_EQ(replies[2].text, "go ahead");
}

TEST(SmtpReplyParser, StatusClassMustMatchTheCode) {
  ReplyParser parser;
  parser.feed("550 2.0.0 odd\r\n250 1.2.3 x\r\n250 2.0.0\r\n250 2.0.0x\r\n");
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].status, "");
  EXPECT_EQ(replies[0].text, "2.0.0 odd");
  EXPECT_EQ(replies[1].status, "");
  EXPECT_EQ(replies[2].status, "2.0.0");
  EXPECT_EQ(replies[2].text, "");
  EXPECT_EQ(replies[3].status, "");
}

TEST(SmtpReplyParser, BareCodeWithoutText) {
  ReplyParser parser;
  parser.feed("250\r\n");
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].code, 250u);
  EXPECT_EQ(replies[0].text, "");
}

constexpr std::string_view kMultiLine =
    "250-mx.example.net greets you\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 1000\r\n"
    "250 8BITMIME\r\n"
    "550-5.7.1 first line\r\n"
    "550 5.7.1 second line\r\n";

void expect_multi_line(const std::vector<Reply>& replies) {
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].code, 250u);
  EXPECT_EQ(replies[0].text, "mx.example.net greets you\nPIPELINING\nSIZE 1000\n8BITMIME");
  EXPECT_EQ(replies[1].code, 550u);
  EXPECT_EQ(replies[1].status, "5.7.1");
  EXPECT_EQ(replies[1].text, "first line\nsecond line");
}

TEST(SmtpReplyParser, MultiLineReplies) {
  ReplyParser parser;
  parser.feed(kMultiLine);
  expect_multi_line(parse_all(parser));
}

TEST(SmtpReplyParser, MultiLineSplitAtEveryByteBoundary) {
  for (std::size_t cut = 0; cut <= kMultiLine.size(); ++cut) {
    ReplyParser parser;
    std::vector<Reply> replies;
    parser.feed(kMultiLine.substr(0, cut));
    for (auto& r : parse_all(parser)) replies.push_back(r);
    parser.feed(kMultiLine.substr(cut));
    for (auto& r : parse_all(parser)) replies.push_back(r);
    SCOPED_TRACE(cut);
    expect_multi_line(replies);
  }
}

TEST(SmtpReplyParser, MultiLineFedByteByByte) {
  ReplyParser parser;
  std::vector<Reply> replies;
  for (char c : kMultiLine) {
    parser.feed(std::string_view(&c, 1));
    for (auto& r : parse_all(parser)) replies.push_back(r);
  }
  expect_multi_line(replies);
}

TEST(SmtpReplyParser, IncompleteReplyWaits) {
  ReplyParser parser;
  parser.feed("250-first\r\n250 sec");
  EXPECT_FALSE(parser.next_reply());
  parser.feed("ond\r\n");
  auto reply = parser.next_reply();
  ASSERT_TRUE(reply && *reply);
  EXPECT_EQ((*reply)->text, "first\nsecond");
}

TEST(SmtpReplyParser, BareLfIsAccepted) {
  ReplyParser parser;
  parser.feed("250-a\n250 b\n");
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].text, "a\nb");
}

TEST(SmtpReplyParser, ControlOctetsInTextAreMasked) {
  ReplyParser parser;
  constexpr char kBytes[] = "250 a\0b\x1b" "c\r\n";
  parser.feed(std::string_view(kBytes, sizeof kBytes - 1));
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].text, "a?b?c");
}

TEST(SmtpReplyParser, GarbageIsMalformed) {
  EXPECT_EQ(error_of("hello\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("25\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("199 x\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("600 x\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("260 x\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("250x\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("250-a\r\n251 b\r\n"), ReplyError::malformed);  // code changed
  EXPECT_EQ(error_of("250 ok\r\n"), std::nullopt);
}

TEST(SmtpReplyParser, OverLongLineIsAnError) {
  std::string line = "250 " + std::string(kMaxReplyLineLength, 'x') + "\r\n";
  EXPECT_EQ(error_of(line), ReplyError::line_too_long);
  std::string fits = "250 " + std::string(kMaxReplyLineLength - 4, 'x') + "\r\n";
  EXPECT_EQ(error_of(fits), std::nullopt);
}

TEST(SmtpReplyParser, OverLongLineIsNeverBufferedWhole) {
  ReplyParser parser;
  parser.feed("250 ");
  for (int i = 0; i < 100; ++i) {
    parser.feed(std::string(1000, 'x'));
    EXPECT_FALSE(parser.next_reply());
  }
  EXPECT_LE(parser.buffered(), kMaxReplyLineLength + 1000);
  parser.feed("\r\n250 ok\r\n");
  auto reply = parser.next_reply();
  ASSERT_TRUE(reply);
  ASSERT_FALSE(*reply);
  EXPECT_EQ(reply->error(), ReplyError::line_too_long);
}

TEST(SmtpReplyParser, TooManyLinesIsAnError) {
  std::string reply;
  for (std::size_t i = 0; i < kMaxReplyLines; ++i) reply += "250-x\r\n";
  EXPECT_EQ(error_of(reply + "250 x\r\n"), ReplyError::too_many_lines);
  std::string fits;
  for (std::size_t i = 0; i + 1 < kMaxReplyLines; ++i) fits += "250-x\r\n";
  EXPECT_EQ(error_of(fits + "250 x\r\n"), std::nullopt);
}

TEST(SmtpReplyParser, ErrorIsSticky) {
  ReplyParser parser;
  parser.feed("junk\r\n250 ok\r\n");
  for (int i = 0; i < 3; ++i) {
    auto reply = parser.next_reply();
    ASSERT_TRUE(reply);
    EXPECT_FALSE(*reply);
  }
}

TEST(SmtpReplyParser, DiscardBufferedDropsHalfAReply) {
  ReplyParser parser;
  parser.feed("250-first\r\n250 sec");
  EXPECT_FALSE(parser.next_reply());
  parser.discard_buffered();
  parser.feed("220 fresh\r\n");
  const auto replies = parse_all(parser);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].code, 220u);
  EXPECT_EQ(replies[0].text, "fresh");
}

TEST(SmtpReplyParser, LeadingStatusCode) {
  EXPECT_EQ(leading_status_code("2.1.5 Ok"), "2.1.5");
  EXPECT_EQ(leading_status_code("5.7.100"), "5.7.100");
  EXPECT_EQ(leading_status_code("4.4.2"), "4.4.2");
  EXPECT_EQ(leading_status_code("3.0.0 x"), "");
  EXPECT_EQ(leading_status_code("5.1234.1 x"), "");
  EXPECT_EQ(leading_status_code("5.1. x"), "");
  EXPECT_EQ(leading_status_code("5..1 x"), "");
  EXPECT_EQ(leading_status_code("Ok"), "");
}

TEST(SmtpEhloReply, ReadsKeywords) {
  const auto caps = parse_ehlo_reply(
      "mx.example.net hello\npipelining\nSIZE 35882577\n8BITMIME\nSMTPUTF8\nDSN\nSTARTTLS\n"
      "AUTH PLAIN login PLAIN\nCHUNKING\nENHANCEDSTATUSCODES\nX-UNKNOWN foo");
  EXPECT_TRUE(caps.extended);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.size);
  EXPECT_EQ(caps.max_size, 35882577u);
  EXPECT_TRUE(caps.eight_bit_mime);
  EXPECT_TRUE(caps.smtputf8);
  EXPECT_TRUE(caps.dsn);
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.chunking);
  EXPECT_TRUE(caps.enhanced_status_codes);
  EXPECT_EQ(caps.auth_mechanisms, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(caps.offers_auth("plain"));
  EXPECT_FALSE(caps.offers_auth("CRAM-MD5"));
  EXPECT_TRUE(caps.supports(Extension::auth));
}

TEST(SmtpEhloReply, GreetingLineIsNoKeyword) {
  const auto caps = parse_ehlo_reply("PIPELINING");
  EXPECT_FALSE(caps.pipelining);
  EXPECT_FALSE(caps.supports(Extension::auth));
}

TEST(SmtpEhloReply, SizeWithoutLimitOrWithGarbage) {
  EXPECT_EQ(parse_ehlo_reply("mx\nSIZE").max_size, std::nullopt);
  EXPECT_EQ(parse_ehlo_reply("mx\nSIZE 0").max_size, std::nullopt);
  EXPECT_EQ(parse_ehlo_reply("mx\nSIZE 12x").max_size, std::nullopt);
  EXPECT_EQ(parse_ehlo_reply("mx\nSIZE 99999999999999999999999").max_size, std::nullopt);
  EXPECT_TRUE(parse_ehlo_reply("mx\nSIZE 12x").size);
}

}  // namespace
}  // namespace postamt::proto::smtp
