// The SMTP engine's building blocks: replies, xtext, UTF-8, parameters, the command
// line splitter, the command table and the line limits.
#include <gtest/gtest.h>

#include <string>

#include "proto/smtp/command_parser.hpp"
#include "proto/smtp/command_table.hpp"
#include "proto/smtp/esmtp_parameters.hpp"
#include "proto/smtp/line_limits.hpp"
#include "proto/smtp/reply.hpp"
#include "proto/smtp/sasl_line.hpp"
#include "proto/smtp/utf8.hpp"
#include "proto/smtp/xtext.hpp"

namespace postamt::proto::smtp {
namespace {

TEST(SmtpReply, SingleAndMultiLine) {
  EXPECT_EQ(format_reply(make_reply(250, "2.1.0", "Ok")), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(format_reply(make_reply(354, "", "Go ahead")), "354 Go ahead\r\n");
  EXPECT_EQ(format_reply(make_reply(334, "", "")), "334 \r\n");
  EXPECT_EQ(format_reply(make_reply(250, "", "host\nSIZE 10\nDSN")),
            "250-host\r\n250-SIZE 10\r\n250 DSN\r\n");
  EXPECT_EQ(format_reply(make_reply(550, "5.1.1", "a\nb")), "550-5.1.1 a\r\n550 5.1.1 b\r\n");
}

TEST(SmtpReply, TextIsSanitisedAndBounded) {
  EXPECT_EQ(format_reply(make_reply(550, "5.7.1", "x\ry\x7f\xc3\xa9\tz")),
            "550 5.7.1 x?y???\tz\r\n");
  const std::string line = format_reply(make_reply(550, "5.7.1", std::string(1000, 'a')));
  EXPECT_EQ(line.size(), 512u);
  EXPECT_EQ(line.substr(line.size() - 2), "\r\n");
  EXPECT_EQ(format_reply(make_reply(99, "", "x")), "200 x\r\n");  // clamped, never malformed
}

TEST(SmtpXtext, DecodeAndEncode) {
  EXPECT_EQ(decode_xtext("abc+2B+3Ddef"), std::optional<std::string>("abc+=def"));
  EXPECT_EQ(decode_xtext("a+2b"), std::optional<std::string>("a+"));  // lower-case tolerated
  EXPECT_EQ(decode_xtext(""), std::optional<std::string>(""));
  EXPECT_FALSE(decode_xtext("a+2"));
  EXPECT_FALSE(decode_xtext("a+"));
  EXPECT_FALSE(decode_xtext("a+G0"));
  EXPECT_FALSE(decode_xtext("a=b"));
  EXPECT_FALSE(decode_xtext("a b"));
  EXPECT_FALSE(decode_xtext("\xc3\xa9"));
  EXPECT_EQ(encode_xtext("a+b=c d\xff"), "a+2Bb+3Dc+20d+FF");
  EXPECT_EQ(decode_xtext(encode_xtext("any\x01thing")), std::optional<std::string>("any\x01thing"));
}

TEST(SmtpUtf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));           // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));       // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));       // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));   // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));
  EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac!"), 3u);
  EXPECT_EQ(utf8_sequence_length("!"), 1u);
  EXPECT_EQ(utf8_sequence_length(""), 0u);
}

TEST(SmtpParameters, MailParametersNeedTheirExtension) {
  const NegotiatedExtensions none;
  auto unknown = parse_mail_parameters(" SIZE=10", none);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ParameterError::Kind::unknown);
  EXPECT_EQ(unknown.error().keyword, "SIZE");
  EXPECT_TRUE(parse_mail_parameters("", none));
  const NegotiatedExtensions all{true, true, true, true, true};
  auto parsed = parse_mail_parameters("  size=10   Body=8bitmime", all);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size, 10u);
  EXPECT_EQ(parsed->body, BodyType::eight_bit_mime);
  EXPECT_FALSE(parse_mail_parameters("SIZE=10", all));  // no separating space
  auto saturated = parse_mail_parameters(" SIZE=99999999999999999999", all);
  ASSERT_TRUE(saturated);
  EXPECT_EQ(*saturated->size, UINT64_MAX);
  EXPECT_FALSE(parse_mail_parameters(" SIZE=", all));
  EXPECT_FALSE(parse_mail_parameters(" SIZE", all));
  EXPECT_FALSE(parse_mail_parameters(" -X=1", all));
  EXPECT_FALSE(parse_mail_parameters(" AUTH=not-a-mailbox", all));
  EXPECT_EQ(parse_mail_parameters(" AUTH=+3C+3E", all)->auth, std::optional<std::string>("<>"));
  EXPECT_EQ(parse_mail_parameters(" AUTH=a+2Bb@x.example", all)->auth,
            std::optional<std::string>("a+b@x.example"));
}

TEST(SmtpParameters, RcptParameters) {
  const NegotiatedExtensions dsn{false, false, false, true, false};
  auto parsed = parse_rcpt_parameters(" NOTIFY=DELAY,SUCCESS ORCPT=RFC822;a+40b.example", dsn);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->notify, (DsnNotify{false, true, false, true}));
  EXPECT_EQ(parsed->orcpt, (Orcpt{"rfc822", "a@b.example"}));
  EXPECT_FALSE(parse_rcpt_parameters(" NOTIFY=SUCCESS,SUCCESS", dsn));
  EXPECT_FALSE(parse_rcpt_parameters(" NOTIFY=", dsn));
  EXPECT_FALSE(parse_rcpt_parameters(" NOTIFY=SUCCESS,", dsn));
  EXPECT_FALSE(parse_rcpt_parameters(" ORCPT=;a", dsn));
  EXPECT_FALSE(parse_rcpt_parameters(" ORCPT=rfc822;", dsn));
  EXPECT_FALSE(parse_rcpt_parameters(" ORCPT=rfc822;" + std::string(500, 'a'), dsn));
  auto utf8 = parse_rcpt_parameters(" ORCPT=utf-8;j\xc3\xb6rg@x.example", dsn);
  ASSERT_TRUE(utf8);
  EXPECT_EQ(utf8->orcpt->address, "j\xc3\xb6rg@x.example");
  EXPECT_FALSE(parse_rcpt_parameters(" ORCPT=rfc822;j\xc3\xb6rg@x.example", dsn));
  EXPECT_FALSE(parse_rcpt_parameters(" ORCPT=utf-8;bad\xc3", dsn));
}

// RFC 3461 §4.2/§4.4: ENVID and ORCPT are xtext of printable US-ASCII and bounded in
// length; a control character smuggled in as "+0D+0A" is refused at MAIL/RCPT, before
// any DATA, so nothing later (the queue, a relayed MAIL) ever sees it.
TEST(SmtpParameters, EnvidAndOrcptArePrintableAndBounded) {
  const NegotiatedExtensions dsn{false, false, false, true, false};
  EXPECT_EQ(parse_mail_parameters(" ENVID=QQ314159+20x", dsn)->envid,
            std::optional<std::string>("QQ314159 x"));
  EXPECT_TRUE(parse_mail_parameters(" ENVID=" + std::string(100, 'e'), dsn));
  EXPECT_FALSE(parse_mail_parameters(" ENVID=" + std::string(101, 'e'), dsn));
  for (const char* bad : {" ENVID=a+0D+0ARCPT", " ENVID=a+00", " ENVID=a+7F", " ENVID=a+C3+A9",
                          " ENVID=a+09b"}) {
    auto parsed = parse_mail_parameters(bad, dsn);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().kind, ParameterError::Kind::bad_value) << bad;
    EXPECT_EQ(parsed.error().keyword, "ENVID") << bad;
  }
  EXPECT_TRUE(parse_rcpt_parameters(" ORCPT=rfc822;" + std::string(493, 'a'), dsn));  // 500 in all
  EXPECT_FALSE(parse_rcpt_parameters(" ORCPT=rfc822;" + std::string(494, 'a'), dsn));
  for (const char* bad : {" ORCPT=rfc822;a+0D+0AQUIT@x.example", " ORCPT=rfc822;a+00@x.example",
                          " ORCPT=x400;a+1F", " ORCPT=rfc822;j+C3+B6rg@x.example",
                          " ORCPT=utf-8;a+0Ab@x.example", " ORCPT=utf-8;a+C3@x.example"}) {
    auto parsed = parse_rcpt_parameters(bad, dsn);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().keyword, "ORCPT") << bad;
  }
  // utf-8-addr-xtext (RFC 6533 §3) may carry UTF-8 encoded as xtext too.
  EXPECT_EQ(parse_rcpt_parameters(" ORCPT=utf-8;j+C3+B6rg@x.example", dsn)->orcpt->address,
            "j\xc3\xb6rg@x.example");
}

TEST(SmtpCommandLine, Splits) {
  auto line = split_command_line("MAIL FROM:<a@b>  SIZE=1  ");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->verb, "MAIL");
  EXPECT_EQ(line->argument, "FROM:<a@b>  SIZE=1");
  auto bare = split_command_line("DATA");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->argument, "");
  EXPECT_EQ(split_command_line("").error(), CommandLineError::empty);
  EXPECT_EQ(split_command_line("   ").error(), CommandLineError::empty);
  EXPECT_EQ(split_command_line(" NOOP").error(), CommandLineError::bad_verb);
  EXPECT_EQ(split_command_line("NO0P").error(), CommandLineError::bad_verb);
  EXPECT_EQ(split_command_line("NOOP\r").error(), CommandLineError::invalid_character);
  EXPECT_EQ(split_command_line(std::string("NOOP \0", 6)).error(), CommandLineError::invalid_character);
  EXPECT_EQ(split_command_line("NOOP \x7f").error(), CommandLineError::invalid_character);
  EXPECT_TRUE(split_command_line("RCPT TO:<\xc3\xa9@x>"));
}

TEST(SmtpCommandTable, LooksUpCaseInsensitively) {
  ASSERT_NE(find_command("mail"), nullptr);
  EXPECT_EQ(find_command("MaIl")->verb, Verb::mail);
  EXPECT_EQ(find_command("EXPN")->verb, Verb::not_implemented);
  EXPECT_EQ(find_command("MAILX"), nullptr);
  EXPECT_EQ(find_command(""), nullptr);
  // Every command the table names is legal somewhere and documents its syntax.
  for (const char* verb : {"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
                           "VRFY", "HELP", "STARTTLS", "AUTH"}) {
    const CommandSpec* spec = find_command(verb);
    ASSERT_NE(spec, nullptr) << verb;
    EXPECT_NE(spec->states, 0u);
    EXPECT_FALSE(spec->syntax.empty());
  }
  EXPECT_TRUE(find_command("BDAT")->flags & kConsumesChunk);
  EXPECT_FALSE(find_command("MAIL")->flags & kBeforeTls);
  EXPECT_TRUE(find_command("STARTTLS")->flags & kBeforeTls);
}

TEST(SmtpLineLimits, ExtensionAllowances) {
  const LineLimits without_auth = extended_line_limits(false);
  EXPECT_EQ(without_auth.mail, 1138u);
  EXPECT_EQ(without_auth.rcpt, 1508u);
  EXPECT_EQ(without_auth.other, 512u);
  EXPECT_EQ(without_auth.buffer, 1508u);
  const LineLimits with_auth = extended_line_limits(true);
  EXPECT_EQ(with_auth.mail, 1638u);
  EXPECT_EQ(with_auth.buffer, 1638u);
}

TEST(SmtpSaslLine, Base64Syntax) {
  EXPECT_TRUE(is_base64_line(""));
  EXPECT_TRUE(is_base64_line("AHVzZXIAcGFzcw=="));
  EXPECT_TRUE(is_base64_line("a+/9"));
  EXPECT_FALSE(is_base64_line("a==="));
  EXPECT_FALSE(is_base64_line("a=b"));
  EXPECT_FALSE(is_base64_line("a b"));
  EXPECT_FALSE(is_base64_line("*"));
}

}  // namespace
}  // namespace postamt::proto::smtp
