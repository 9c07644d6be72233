// SMTP server engine: greeting, HELO/EHLO, MAIL/RCPT and their parameters, sequencing,
// RSET/VRFY/NOOP/HELP/QUIT, limits and error budget. Every transcript runs fed whole,
// byte by byte and in pieces (run_all), which must agree.
#include <gtest/gtest.h>

#include <string>

#include "proto/smtp/server_engine.hpp"
#include "smtp_test_session.hpp"

namespace postamt::proto::smtp::testing {
namespace {

constexpr std::string_view kEhlo = "EHLO client.example\r\n";

TEST(SmtpServer, GreetingNamesTheHost) {
  Session session(default_options());
  EXPECT_EQ(session.transcript().output, "220 mx.example.test ESMTP Postamt\r\n");
  EXPECT_FALSE(session.transcript().closed);
}

TEST(SmtpServer, NothingHappensBeforeStart) {
  ServerEngine engine(default_options());
  engine.receive("EHLO a\r\n");
  EXPECT_FALSE(engine.next_event());
  EXPECT_TRUE(engine.pending_output().empty());
  engine.start();
  auto event = engine.next_event();
  ASSERT_TRUE(event);
  EXPECT_TRUE(std::holds_alternative<Ehlo>(*event));
}

TEST(SmtpServer, EhloListsExtensions) {
  const auto t = run_all(default_options(), kEhlo);
  EXPECT_EQ(t.output,
            "220 mx.example.test ESMTP Postamt\r\n"
            "250-mx.example.test\r\n"
            "250-PIPELINING\r\n"
            "250-SIZE 10000\r\n"
            "250-8BITMIME\r\n"
            "250-SMTPUTF8\r\n"
            "250-ENHANCEDSTATUSCODES\r\n"
            "250-CHUNKING\r\n"
            "250 DSN\r\n");
  EXPECT_EQ(t.events, (Events{"EHLO client.example"}));
}

TEST(SmtpServer, EhloAnnouncesStartTlsAndAuthWhenConfigured) {
  auto options = default_options();
  options.starttls_available = true;
  options.auth_mechanisms = {"plain", "LOGIN"};
  const auto t = run_all(options, kEhlo);
  EXPECT_NE(t.output.find("250-DSN\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"), std::string::npos)
      << t.output;
}

TEST(SmtpServer, EhloOmitsStartTlsWhenTlsIsActive) {
  auto options = default_options();
  options.starttls_available = true;
  options.tls_active = true;
  const auto t = run_all(options, kEhlo);
  EXPECT_EQ(t.output.find("STARTTLS"), std::string::npos);
  EXPECT_NE(t.output.find("250 DSN\r\n"), std::string::npos);
}

TEST(SmtpServer, HeloNegotiatesNoExtensions) {
  const auto t = run_all(default_options(),
                         "HELO client.example\r\n"
                         "MAIL FROM:<a@example.com> SIZE=100\r\n"
                         "MAIL FROM:<a@example.com> BODY=8BITMIME\r\n"
                         "BDAT 4 LAST\r\nabcd"
                         "MAIL FROM:<a@example.com>\r\n");
  EXPECT_EQ(t.output.rfind("220 mx.example.test ESMTP Postamt\r\n250 mx.example.test\r\n", 0), 0u);
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "555 5.5.4", "555 5.5.4", "503 5.5.1",
                                        "250 2.1.0"}));
  EXPECT_EQ(t.events, (Events{"HELO client.example", "MAIL <a@example.com>"}));
}

TEST(SmtpServer, EhloNeedsOneWordArgument) {
  const auto t = run_all(default_options(), "EHLO\r\nEHLO two words\r\nHELO \x01x\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "501 5.5.4", "501 5.5.4", "500 5.5.2"}));
  EXPECT_TRUE(t.events.empty());
}

TEST(SmtpServer, HappyPath) {
  const auto t = run_all(default_options(),
                         "EHLO client.example\r\n"
                         "MAIL FROM:<alice@example.org>\r\n"
                         "RCPT TO:<bob@example.com>\r\n"
                         "RCPT TO:<carol@example.com>\r\n"
                         "DATA\r\n"
                         "Subject: hi\r\n"
                         "\r\n"
                         "Hello Bob.\r\n"
                         ".\r\n"
                         "QUIT\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5",
                                        "354", "250 2.0.0", "221 2.0.0"}));
  EXPECT_NE(t.output.find("354 End data with <CR><LF>.<CR><LF>\r\n"), std::string::npos);
  EXPECT_NE(t.output.find("250 2.0.0 Ok: queued as Q1\r\n"), std::string::npos);
  EXPECT_NE(t.output.find("221 2.0.0 mx.example.test closing connection\r\n"), std::string::npos);
  EXPECT_EQ(t.events, (Events{"EHLO client.example", "MAIL <alice@example.org>",
                              "RCPT <bob@example.com>", "RCPT <carol@example.com>", "DATA",
                              "END 27", "QUIT"}));
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0], "Subject: hi\r\n\r\nHello Bob.\r\n");
  EXPECT_TRUE(t.closed);
}

TEST(SmtpServer, TwoMessagesInOneSession) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\n"
                         "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\none\r\n.\r\n"
                         "MAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\ntwo\r\n.\r\n");
  EXPECT_EQ(t.messages, (std::vector<std::string>{"one\r\n", "two\r\n"}));
  EXPECT_NE(t.output.find("queued as Q2"), std::string::npos);
}

TEST(SmtpServer, EnvelopeIsVisibleToTheDriver) {
  Session session(default_options());
  session.feed("EHLO c\r\nMAIL FROM:<a@x.example> SMTPUTF8\r\nRCPT TO:<b@y.example>\r\n");
  const auto& envelope = session.engine().envelope();
  ASSERT_TRUE(envelope.mail);
  EXPECT_EQ(envelope.mail->reverse_path, "a@x.example");
  EXPECT_TRUE(envelope.mail->smtputf8);
  ASSERT_EQ(envelope.recipients.size(), 1u);
  EXPECT_EQ(envelope.recipients[0].forward_path, "b@y.example");
  EXPECT_EQ(session.engine().helo_domain(), "c");
  EXPECT_TRUE(session.engine().extended());
}

TEST(SmtpServer, CommandsAreCaseInsensitiveAndToleratesSpaceAfterColon) {
  const auto t = run_all(default_options(),
                         "ehlo c\r\nmail from: <a@x.example> body=8bitmime\r\n"
                         "Rcpt To:<B@Y.Example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example> body=8BITMIME", "RCPT <B@y.example>"}));
}

TEST(SmtpServer, NullSender) {
  const auto t = run_all(default_options(), "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "501 5.1.3"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <>"}));
}

TEST(SmtpServer, SourceRoutesAreStripped) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\n"
                         "MAIL FROM:<@a.example,@b.example:joe@c.example>\r\n"
                         "RCPT TO:<@relay.example:bob@d.example>\r\n"
                         "RCPT TO:<@:bob@d.example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "501 5.1.3"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <joe@c.example>", "RCPT <bob@d.example>"}));
}

TEST(SmtpServer, QuotedLocalParts) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<\"john doe\"@Example.COM>\r\n"
                         "RCPT TO:<\"plain\"@x.example>\r\n"
                         "RCPT TO:<\"a\\\"b\"@x.example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <\"john doe\"@example.com>", "RCPT <plain@x.example>",
                              "RCPT <\"a\\\"b\"@x.example>"}));
}

TEST(SmtpServer, PostmasterAndAddressLiterals) {
  auto options = default_options();
  options.max_recipients = 10;
  const auto t = run_all(options,
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\n"
                         "RCPT TO:<PostMaster>\r\n"
                         "RCPT TO:<user@[192.0.2.1]>\r\n"
                         "RCPT TO:<user@[IPv6:2001:DB8::1]>\r\n"
                         "RCPT TO:<user@[300.0.0.1]>\r\n"
                         "RCPT TO:<user@[IPv6:1::2::3]>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5",
                                        "250 2.1.5", "501 5.1.3", "501 5.1.3"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example>", "RCPT <postmaster>",
                              "RCPT <user@[192.0.2.1]>", "RCPT <user@[IPv6:2001:db8::1]>"}));
}

TEST(SmtpServer, BadPathsAreSyntaxErrors) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\n"
                         "MAIL FROM:a@x.example\r\n"
                         "MAIL FROM:<a@x.example\r\n"
                         "MAIL FROM:<a..b@x.example>\r\n"
                         "MAIL FROM:<a@-x.example>\r\n"
                         "MAIL FROM:<a@x.example>junk\r\n"
                         "MAIL TO:<a@x.example>\r\n"
                         "MAIL FROM:<" + std::string(250, 'a') + "@x.example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "501 5.1.7", "501 5.1.7", "501 5.1.7",
                                        "501 5.1.7", "501 5.5.4", "501 5.5.4", "501 5.1.7"}));
  EXPECT_NE(t.output.find("501 5.1.7 Error: sender address too long"), std::string::npos);
}

TEST(SmtpServer, Smtputf8AddressNeedsTheParameter) {
  const std::string utf8_sender = "j\xc3\xb6rg@b\xc3\xbc" "cher.example";
  const auto t = run_all(default_options(),
                         "EHLO c\r\n"
                         "MAIL FROM:<" + utf8_sender + ">\r\n"
                         "MAIL FROM:<a@x.example>\r\n"
                         "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@x.example>\r\n"
                         "RSET\r\n"
                         "MAIL FROM:<" + utf8_sender + "> SMTPUTF8\r\n"
                         "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@x.example>\r\n"
                         "RCPT TO:<bad\xc3(@x.example>\r\n"
                         "RCPT TO:<overlong\xc0\xaf@x.example>\r\n");
  EXPECT_EQ(replies(t.output),
            (Replies{"220", "250", "553 5.6.7", "250 2.1.0", "553 5.6.7", "250 2.0.0", "250 2.1.0",
                     "250 2.1.5", "501 5.1.3", "501 5.1.3"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example>", "RSET",
                              "MAIL <" + utf8_sender + "> smtputf8",
                              "RCPT <\xe7\x94\xa8\xe6\x88\xb7@x.example>"}));
}

TEST(SmtpServer, MailParameters) {
  auto options = default_options();
  options.auth_mechanisms = {"PLAIN"};
  const auto t = run_all(options,
                         "EHLO c\r\n"
                         "MAIL FROM:<a@x.example> SIZE=500 BODY=8BITMIME SMTPUTF8 RET=HDRS "
                         "ENVID=id+2B1 AUTH=a+40x.example\r\n"
                         "RSET\r\n"
                         "MAIL FROM:<a@x.example> body=7bit ret=full auth=<>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.0.0", "250 2.1.0"}));
  EXPECT_EQ(t.events,
            (Events{"EHLO c",
                    "MAIL <a@x.example> size=500 body=8BITMIME smtputf8 ret=HDRS envid=id+1 "
                    "auth=a@x.example",
                    "RSET", "MAIL <a@x.example> body=7BIT ret=FULL auth=<>"}));
}

TEST(SmtpServer, BadMailParameters) {
  auto options = default_options();
  options.max_errors = 0;  // no limit: this test makes more than ten errors
  const auto t = run_all(options,
                         "EHLO c\r\n"
                         "MAIL FROM:<a@x.example> SIZE=abc\r\n"
                         "MAIL FROM:<a@x.example> SIZE=123456789012345678901\r\n"
                         "MAIL FROM:<a@x.example> SIZE=10001\r\n"
                         "MAIL FROM:<a@x.example> SIZE=99999999999999999999\r\n"
                         "MAIL FROM:<a@x.example> BODY=BINARYMIME\r\n"
                         "MAIL FROM:<a@x.example> SMTPUTF8=yes\r\n"
                         "MAIL FROM:<a@x.example> RET=ALL\r\n"
                         "MAIL FROM:<a@x.example> ENVID=a+ZZ\r\n"
                         "MAIL FROM:<a@x.example> ENVID=" + std::string(101, 'e') + "\r\n"
                         "MAIL FROM:<a@x.example> ENVID=a+0D+0AQUIT\r\n"
                         "MAIL FROM:<a@x.example> AUTH=<>\r\n"  // AUTH not announced
                         "MAIL FROM:<a@x.example> FOO=bar\r\n"
                         "MAIL FROM:<a@x.example> SIZE=1 SIZE=2\r\n"
                         "MAIL FROM:<a@x.example> =x\r\n"
                         "MAIL FROM:<a@x.example> SIZE=10000\r\n");
  EXPECT_EQ(replies(t.output),
            (Replies{"220", "250", "501 5.5.4", "501 5.5.4", "552 5.3.4", "552 5.3.4", "501 5.5.4",
                     "501 5.5.4", "501 5.5.4", "501 5.5.4", "501 5.5.4", "501 5.5.4", "555 5.5.4",
                     "555 5.5.4",
                     "501 5.5.4", "501 5.5.4", "250 2.1.0"}));
  EXPECT_NE(t.output.find("555 5.5.4 Error: unsupported parameter FOO"), std::string::npos);
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example> size=10000"}));
}

TEST(SmtpServer, RcptParameters) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\n"
                         "RCPT TO:<b@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40y.example\r\n"
                         "RCPT TO:<c@y.example> notify=never\r\n"
                         "RCPT TO:<d@y.example> NOTIFY=NEVER,DELAY\r\n"
                         "RCPT TO:<d@y.example> NOTIFY=SOMETIMES\r\n"
                         "RCPT TO:<d@y.example> ORCPT=nosemicolon\r\n"
                         "RCPT TO:<d@y.example> ORCPT=rfc822;bad+xx\r\n"
                         "RCPT TO:<d@y.example> ORCPT=rfc822;d+0D+0AQUIT@y.example\r\n"
                         "RCPT TO:<d@y.example> SIZE=10\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5",
                                        "501 5.5.4", "501 5.5.4", "501 5.5.4", "501 5.5.4",
                                        "501 5.5.4", "555 5.5.4"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example>",
                              "RCPT <b@y.example> notify=SUCCESS,FAILURE orcpt=rfc822;b@y.example",
                              "RCPT <c@y.example> notify=NEVER"}));
}

TEST(SmtpServer, SequenceErrors) {
  const auto t = run_all(default_options(),
                         "MAIL FROM:<a@x.example>\r\n"  // before EHLO
                         "EHLO c\r\n"
                         "RCPT TO:<b@y.example>\r\n"    // before MAIL
                         "DATA\r\n"                     // before MAIL
                         "MAIL FROM:<a@x.example>\r\n"
                         "MAIL FROM:<a@x.example>\r\n"  // nested
                         "DATA\r\n"                     // no recipient
                         "DATA extra\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "503 5.5.1", "250", "503 5.5.1", "503 5.5.1",
                                        "250 2.1.0", "503 5.5.1", "554 5.5.1", "501 5.5.4"}));
  EXPECT_NE(t.output.find("503 5.5.1 Error: send HELO/EHLO first"), std::string::npos);
  EXPECT_NE(t.output.find("503 5.5.1 Error: need MAIL command"), std::string::npos);
  EXPECT_NE(t.output.find("503 5.5.1 Error: nested MAIL command"), std::string::npos);
  EXPECT_NE(t.output.find("554 5.5.1 Error: no valid recipients"), std::string::npos);
}

TEST(SmtpServer, RsetClearsTheTransactionButKeepsEhlo) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
                         "RSET\r\nRCPT TO:<b@y.example>\r\nMAIL FROM:<z@x.example> SIZE=5\r\n"
                         "RSET x\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0",
                                        "503 5.5.1", "250 2.1.0", "501 5.5.4"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example>", "RCPT <b@y.example>", "RSET",
                              "MAIL <z@x.example> size=5"}));
}

TEST(SmtpServer, EhloResetsTheTransaction) {
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nEHLO d\r\nRCPT TO:<b@y.example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250", "503 5.5.1"}));
}

TEST(SmtpServer, VrfyNoopHelpAndUnknownCommands) {
  const auto t = run_all(default_options(),
                         "VRFY bob\r\nVRFY\r\nNOOP\r\nNOOP anything\r\nHELP\r\nHELP MAIL\r\n"
                         "EXPN list\r\nTURN\r\nFROB\r\n\r\nM@IL x\r\n");
  EXPECT_EQ(replies(t.output),
            (Replies{"220", "252 2.1.5", "501 5.5.4", "250 2.0.0", "250 2.0.0", "214 2.0.0",
                     "214 2.0.0", "502 5.5.1", "502 5.5.1", "500 5.5.2", "500 5.5.2", "500 5.5.2"}));
  EXPECT_TRUE(t.events.empty());
}

TEST(SmtpServer, QuitClosesAndIgnoresWhatFollows) {
  const auto t = run_all(default_options(), "EHLO c\r\nQUIT\r\nNOOP\r\nEHLO d\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "221 2.0.0"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "QUIT"}));
  EXPECT_TRUE(t.closed);
}

TEST(SmtpServer, QuitTakesNoArgument) {
  const auto t = run_all(default_options(), "QUIT now\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "501 5.5.4"}));
  EXPECT_FALSE(t.closed);
}

TEST(SmtpServer, TooManyRecipients) {
  const auto t = run_all(default_options(),  // max_recipients = 3
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\n"
                         "RCPT TO:<r1@y.example>\r\nRCPT TO:<r2@y.example>\r\n"
                         "RCPT TO:<r3@y.example>\r\nRCPT TO:<r4@y.example>\r\n"
                         "DATA\r\nx\r\n.\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5",
                                        "250 2.1.5", "452 4.5.3", "354", "250 2.0.0"}));
  EXPECT_EQ(t.events.size(), 7u);  // EHLO MAIL 3xRCPT DATA END
}

TEST(SmtpServer, RejectedRecipientsDoNotCountAndLeaveNoValidRecipients) {
  Policy policy;
  policy.rcpt = [](const RcptTo&) { return make_reply(550, "5.1.1", "No such user"); };
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<nobody@y.example>\r\n"
                         "DATA\r\nBDAT 3 LAST\r\nabcRSET\r\n",
                         policy);
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "550 5.1.1", "554 5.5.1",
                                        "554 5.5.1", "250 2.0.0"}));
}

TEST(SmtpServer, PolicyRejections) {
  Policy policy;
  policy.mail = [](const MailFrom& m) -> std::optional<Reply> {
    if (m.reverse_path == "spam@x.example") return make_reply(550, "5.7.1", "Go away");
    return std::nullopt;
  };
  policy.data = [](const DataBegin&) -> std::optional<Reply> {
    return make_reply(451, "4.3.0", "Try later");
  };
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<spam@x.example>\r\nRCPT TO:<b@y.example>\r\n"
                         "MAIL FROM:<ok@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
                         "RCPT TO:<b@y.example>\r\n",
                         policy);
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "550 5.7.1", "503 5.5.1", "250 2.1.0",
                                        "250 2.1.5", "451 4.3.0", "503 5.5.1"}));
}

TEST(SmtpServer, MessageRefusedAfterTheData) {
  Policy policy;
  policy.message = [](const std::string&) -> std::optional<Reply> {
    return make_reply(451, "4.3.0", "Storage unavailable");
  };
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
                         "DATA\r\nhello\r\n.\r\nRCPT TO:<b@y.example>\r\n",
                         policy);
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "250 2.1.5", "354", "451 4.3.0",
                                        "503 5.5.1"}));
}

TEST(SmtpServer, ARejectWithAPositiveCodeBecomesATemporaryFailure) {
  Policy policy;
  policy.mail = [](const MailFrom&) -> std::optional<Reply> { return make_reply(250, "2.0.0", "x"); };
  const auto t = run_all(default_options(), "EHLO c\r\nMAIL FROM:<a@x.example>\r\n", policy);
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "451 4.3.0"}));
}

TEST(SmtpServer, PipelinedRepliesComeInCommandOrder) {
  Policy policy;
  policy.rcpt = [](const RcptTo& r) -> std::optional<Reply> {
    if (r.forward_path == "unknown@y.example") return make_reply(550, "5.1.1", "No such user");
    return std::nullopt;
  };
  Session session(default_options(), policy);
  session.feed("EHLO c\r\n");
  const std::size_t before = session.transcript().output.size();
  // One packet, as a PIPELINING client sends it (RFC 2920 §3.1).
  session.feed("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<unknown@y.example>\r\n"
               "RCPT TO:<c@y.example>\r\nDATA\r\n");
  EXPECT_EQ(replies(session.transcript().output.substr(before)),
            (Replies{"250 2.1.0", "250 2.1.5", "550 5.1.1", "250 2.1.5", "354"}));
  session.feed("body\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(session.transcript().messages, (std::vector<std::string>{"body\r\n"}));
  EXPECT_TRUE(session.transcript().closed);
}

TEST(SmtpServer, EngineWaitsForEachDecision) {
  ServerEngine engine(default_options());
  engine.start();
  engine.receive("EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n");
  auto ehlo = engine.next_event();
  ASSERT_TRUE(ehlo && std::holds_alternative<Ehlo>(*ehlo));
  auto mail = engine.next_event();
  ASSERT_TRUE(mail && std::holds_alternative<MailFrom>(*mail));
  EXPECT_EQ(engine.awaiting(), ServerEngine::Awaiting::mail);
  EXPECT_FALSE(engine.next_event());  // nothing until the answer
  EXPECT_EQ(replies(engine.pending_output()), (Replies{"220", "250"}));
  engine.accept_rcpt();  // the wrong answer is ignored
  EXPECT_EQ(engine.awaiting(), ServerEngine::Awaiting::mail);
  engine.accept_mail();
  auto rcpt = engine.next_event();
  ASSERT_TRUE(rcpt && std::holds_alternative<RcptTo>(*rcpt));
  EXPECT_EQ(replies(engine.pending_output()), (Replies{"220", "250", "250 2.1.0"}));
}

TEST(SmtpServer, OverLongCommandLines) {
  const std::string long_noop = "NOOP " + std::string(600, 'x') + "\r\n";
  const std::string endless = "NOOP " + std::string(5000, 'y') + "\r\n";
  const auto t = run_all(default_options(), long_noop + endless + "NOOP\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "500 5.5.2", "500 5.5.2", "250 2.0.0"}));
  EXPECT_NE(t.output.find("500 5.5.2 Error: line too long"), std::string::npos);
}

TEST(SmtpServer, OverLongLinesAreNeverBuffered) {
  Session session(default_options());
  for (int i = 0; i < 100000; ++i) {
    session.feed("z");
    ASSERT_LE(session.engine().buffered_input(), 1700u);
  }
  session.feed("\r\nNOOP\r\n");
  EXPECT_EQ(replies(session.transcript().output), (Replies{"220", "500 5.5.2", "250 2.0.0"}));
}

TEST(SmtpServer, ExtensionsRaiseTheMailLineLimit) {
  // 512 octets is RFC 5321's command line; with ENVID, RET, SIZE and BODY the MAIL line
  // may legitimately be longer (line_limits.hpp), but only once EHLO announced them.
  auto options = default_options();
  options.auth_mechanisms = {"PLAIN"};
  const std::string mail = "MAIL FROM:<" + std::string(200, 'l') + "@example.com> ENVID=" +
                           std::string(100, 'e') + " RET=HDRS SIZE=100 BODY=8BITMIME SMTPUTF8" +
                           " AUTH=" + std::string(240, 'u') + "+40example.com\r\n";
  ASSERT_GT(mail.size(), 600u);
  const auto with_ehlo = run_all(options, "EHLO c\r\n" + mail);
  EXPECT_EQ(replies(with_ehlo.output), (Replies{"220", "250", "250 2.1.0"}));
  const auto with_helo = run_all(options, "HELO c\r\n" + mail);
  EXPECT_EQ(replies(with_helo.output), (Replies{"220", "250", "500 5.5.2"}));
  // Other commands keep 512 even after EHLO.
  const auto noop = run_all(default_options(), "EHLO c\r\nNOOP " + std::string(506, 'n') + "\r\n"
                                                   "NOOP " + std::string(505, 'n') + "\r\n");
  EXPECT_EQ(replies(noop.output), (Replies{"220", "250", "500 5.5.2", "250 2.0.0"}));
}

TEST(SmtpServer, BareLfInCommandsIsRefusedUnlessNormalising) {
  const auto strict = run_all(default_options(), "EHLO c\nNOOP\r\n");
  EXPECT_EQ(replies(strict.output), (Replies{"220", "500 5.5.2", "250 2.0.0"}));
  EXPECT_TRUE(strict.events.empty());
  auto options = default_options();
  options.normalize_bare_line_endings = true;
  const auto lenient = run_all(options, "EHLO c\nNOOP\r\n");
  EXPECT_EQ(replies(lenient.output), (Replies{"220", "250", "250 2.0.0"}));
}

TEST(SmtpServer, BareCrInACommandIsAnInvalidCharacter) {
  const auto t = run_all(default_options(), "NOOP\rMAIL FROM:<a@x.example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "500 5.5.2"}));
}

TEST(SmtpServer, TooManyErrorsCloseWith421) {
  auto options = default_options();
  options.max_errors = 3;
  const auto t = run_all(options, "FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "500 5.5.2", "500 5.5.2", "500 5.5.2", "421 4.7.0"}));
  EXPECT_NE(t.output.find("421 4.7.0 mx.example.test Error: too many errors\r\n"), std::string::npos);
  EXPECT_TRUE(t.closed);
}

TEST(SmtpServer, DefaultErrorBudgetIsTen) {
  std::string input;
  for (int i = 0; i < 12; ++i) input += "BOGUS\r\n";
  const auto t = run_all(ServerOptions{}, input);
  const auto r = replies(t.output);
  ASSERT_EQ(r.size(), 12u);  // greeting, 10 errors, 421
  EXPECT_EQ(r.back(), "421 4.7.0");
  EXPECT_TRUE(t.closed);
}

TEST(SmtpServer, ShutdownSends421AndCloses) {
  Session session(default_options());
  session.feed("EHLO c\r\nMAIL FROM:<a@x.example>\r\n");
  session.engine().shutdown(make_reply(421, "4.4.2", "mx.example.test Error: timeout exceeded"));
  EXPECT_TRUE(session.engine().wants_close());
  EXPECT_FALSE(session.engine().next_event());
  EXPECT_EQ(replies(session.engine().pending_output()), (Replies{"421 4.4.2"}));
}

TEST(SmtpServer, OutputIsConsumedPartially) {
  ServerEngine engine(default_options());
  engine.start();
  const std::string greeting(engine.pending_output());
  engine.consume_output(5);
  EXPECT_EQ(engine.pending_output(), greeting.substr(5));
  engine.consume_output(1000);
  EXPECT_TRUE(engine.pending_output().empty());
}

TEST(SmtpServer, ReplyTextCannotInjectReplies) {
  Policy policy;
  policy.mail = [](const MailFrom&) -> std::optional<Reply> {
    return make_reply(550, "5.7.1", "no\r250 fake\x01");
  };
  policy.rcpt = [](const RcptTo&) -> std::optional<Reply> {
    return make_reply(550, "5.7.1", "first\r\n250 second");  // '\n' makes a continuation line
  };
  const auto t = run_all(default_options(),
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRSET\r\n", policy);
  EXPECT_NE(t.output.find("\r\n550 5.7.1 no?250 fake?\r\n"), std::string::npos) << t.output;
  const auto u = format_reply(make_reply(550, "5.7.1", "first\r\n250 second"));
  EXPECT_EQ(u, "550-5.7.1 first?\r\n550 5.7.1 250 second\r\n");
}

}  // namespace
}  // namespace postamt::proto::smtp::testing

namespace postamt::proto::smtp {
namespace {

using testing::Policy;
using testing::Replies;
using testing::default_options;
using testing::replies;
using testing::run_all;

TEST(SmtpServer, RefusedRecipientsCountTowardTheErrorBudget) {
  auto options = default_options();
  options.max_errors = 3;
  Policy policy;
  policy.rcpt = [](const RcptTo&) -> std::optional<Reply> {
    return make_reply(550, "5.1.1", "Recipient address rejected: user unknown");
  };
  const auto t = run_all(options,
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<u1@y.example>\r\n"
                         "RCPT TO:<u2@y.example>\r\nRCPT TO:<u3@y.example>\r\nRCPT TO:<u4@y.example>\r\n",
                         policy);
  EXPECT_EQ(replies(t.output),
            (Replies{"220", "250", "250 2.1.0", "550 5.1.1", "550 5.1.1", "550 5.1.1", "421 4.7.0"}));
  EXPECT_TRUE(t.closed);
}

TEST(SmtpServer, TemporaryRecipientRefusalsDoNotCount) {
  auto options = default_options();
  options.max_errors = 2;
  Policy policy;
  policy.rcpt = [](const RcptTo&) -> std::optional<Reply> {
    return make_reply(451, "4.3.0", "Temporary failure");
  };
  const auto t = run_all(options,
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<u1@y.example>\r\n"
                         "RCPT TO:<u2@y.example>\r\nRCPT TO:<u3@y.example>\r\nQUIT\r\n",
                         policy);
  EXPECT_EQ(replies(t.output),
            (Replies{"220", "250", "250 2.1.0", "451 4.3.0", "451 4.3.0", "451 4.3.0", "221 2.0.0"}));
}

TEST(SmtpServer, DeliveringMailResetsTheErrorBudget) {
  auto options = default_options();
  options.max_errors = 3;
  const auto t = run_all(options,
                         "FOO\r\nBAR\r\nEHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
                         "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nFOO\r\nBAR\r\nQUIT\r\n");
  const auto r = replies(t.output);
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[r.size() - 3], "500 5.5.2");
  EXPECT_EQ(r[r.size() - 2], "500 5.5.2");
  EXPECT_EQ(r.back(), "221 2.0.0");  // four errors in all, but never three since the delivery
}

}  // namespace
}  // namespace postamt::proto::smtp
