// SMTP client side, messages: MAIL/RCPT/DATA pipelined (RFC 2920) and lock-step, SIZE,
// partial and total recipient failure, DSN and BODY parameters, dot-stuffing, several
// messages per connection, 421 in the middle.
#include <gtest/gtest.h>

#include "smtp_client_test_driver.hpp"

namespace postamt::proto::smtp::testing {
namespace {

constexpr std::string_view kGreeting = "220 mx.example.net ESMTP\r\n";
constexpr std::string_view kPipelining = "250-mx.example.net\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n";
constexpr std::string_view kLockStep = "250-mx.example.net\r\n250 ENHANCEDSTATUSCODES\r\n";

ScriptedMessage message_to(std::vector<std::string> recipients, std::string content = "Subject: hi\r\n\r\nhello\r\n") {
  return {simple_envelope(std::move(recipients)), std::move(content)};
}

TEST(SmtpClientMessage, PipelinedBatch) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "carol@example.net"})});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange(kPipelining),
            "MAIL FROM:<alice@example.org>\r\n"
            "RCPT TO:<bob@example.net>\r\n"
            "RCPT TO:<carol@example.net>\r\n"
            "DATA\r\n");
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n"),
            "Subject: hi\r\n\r\nhello\r\n.\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 queued as X\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.exchange("221 2.0.0 bye\r\n"), "");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "rcpt 1: 250 2.1.5", "data",
                                     "message: 250 2.0.0", "ready", "finished"}));
}

TEST(SmtpClientMessage, PipelinedRepliesSplitAtEveryByteBoundary) {
  const std::string replies = "250 2.1.0 ok\r\n250-2.1.5 first\r\n250 2.1.5 second\r\n354 go\r\n";
  for (std::size_t cut = 0; cut <= replies.size(); ++cut) {
    SCOPED_TRACE(cut);
    ScriptedClient client(client_options(), {message_to({"bob@example.net"})});
    client.exchange(kGreeting);
    client.exchange(kPipelining);
    std::string sent = client.exchange(replies.substr(0, cut));
    sent += client.exchange(replies.substr(cut));
    EXPECT_EQ(sent, "Subject: hi\r\n\r\nhello\r\n.\r\n");
    EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "data"}));
  }
}

TEST(SmtpClientMessage, LockStepWithoutPipelining) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "carol@example.net"})});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange(kLockStep), "MAIL FROM:<alice@example.org>\r\n");
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n"), "RCPT TO:<bob@example.net>\r\n");
  EXPECT_EQ(client.exchange("250 2.1.5 ok\r\n"), "RCPT TO:<carol@example.net>\r\n");
  EXPECT_EQ(client.exchange("250 2.1.5 ok\r\n"), "DATA\r\n");
  EXPECT_EQ(client.exchange("354 go\r\n"), "Subject: hi\r\n\r\nhello\r\n.\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 ok\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "rcpt 1: 250 2.1.5", "data",
                                     "message: 250 2.0.0", "ready"}));
}

TEST(SmtpClientMessage, PipeliningCanBeSwitchedOff) {
  auto options = client_options();
  options.use_pipelining = false;
  ScriptedClient client(options, {message_to({"bob@example.net"})});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange(kPipelining), "MAIL FROM:<alice@example.org>\r\n");
}

TEST(SmtpClientMessage, LockStepPartialRecipientFailure) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "nobody@example.net", "carol@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kLockStep);
  client.exchange("250 2.1.0 ok\r\n");
  EXPECT_EQ(client.exchange("250 2.1.5 ok\r\n"), "RCPT TO:<nobody@example.net>\r\n");
  EXPECT_EQ(client.exchange("550 5.1.1 no such user\r\n"), "RCPT TO:<carol@example.net>\r\n");
  EXPECT_EQ(client.exchange("451 4.2.0 try later\r\n"), "DATA\r\n");
  client.exchange("354 go\r\n");
  client.exchange("250 2.0.0 ok\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "rcpt 1: 550 5.1.1",
                                     "rcpt 2: 451 4.2.0", "data", "message: 250 2.0.0", "ready"}));
}

TEST(SmtpClientMessage, PipelinedPartialRecipientFailure) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "nobody@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n550 5.1.1 no\r\n250 2.1.5 ok\r\n354 go\r\n"), "Subject: hi\r\n\r\nhello\r\n.\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 550 5.1.1", "rcpt 1: 250 2.1.5", "data"}));
}

TEST(SmtpClientMessage, LockStepAllRecipientsFailedSendsRset) {
  ScriptedClient client(client_options(), {message_to({"x@example.net", "y@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kLockStep);
  client.exchange("250 2.1.0 ok\r\n");
  client.exchange("550 5.1.1 no\r\n");
  EXPECT_EQ(client.exchange("450 4.2.1 busy\r\n"), "RSET\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 ok\r\n"), "QUIT\r\n");
  // The transient refusal wins as the message result: a retry may still help.
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 550 5.1.1", "rcpt 1: 450 4.2.1",
                                     "message: 450 4.2.1", "ready"}));
}

TEST(SmtpClientMessage, PipelinedAllRecipientsFailedSendsRsetAfterDataRefusal) {
  ScriptedClient client(client_options(), {message_to({"x@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n550 5.1.1 no\r\n554 5.5.1 no valid recipients\r\n"), "RSET\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 ok\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 550 5.1.1", "message: 550 5.1.1", "ready"}));
}

TEST(SmtpClientMessage, PipelinedDataAcceptedWithoutRecipientsGetsAnEmptyEnd) {
  // RFC 2920 §3.1: a 354 although no RCPT succeeded; the client ends the data at once.
  ScriptedClient client(client_options(), {message_to({"x@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n550 5.1.1 no\r\n354 go\r\n"), ".\r\n");
  EXPECT_EQ(client.exchange("554 5.5.1 no recipients\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 550 5.1.1", "message: 550 5.1.1", "ready"}));
}

TEST(SmtpClientMessage, LockStepMailRefused) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "carol@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kLockStep);
  EXPECT_EQ(client.exchange("553 5.7.1 sender rejected\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 553 5.7.1", "rcpt 1: 553 5.7.1",
                                     "message: 553 5.7.1", "ready"}));
}

TEST(SmtpClientMessage, PipelinedMailRefused) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("451 4.3.0 later\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 451 4.3.0", "message: 451 4.3.0", "ready"}));
}

TEST(SmtpClientMessage, DataRefusedSendsRset) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n250 2.1.5 ok\r\n451 4.3.0 not now\r\n"), "RSET\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 ok\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "message: 451 4.3.0", "ready"}));
}

TEST(SmtpClientMessage, MessageRefusedAtTheEnd) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  client.exchange("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n");
  EXPECT_EQ(client.exchange("554 5.7.1 spam\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "data", "message: 554 5.7.1", "ready"}));
}

TEST(SmtpClientMessage, SizeRefusedBeforeMail) {
  auto big = message_to({"bob@example.net"});
  big.envelope.size = 2000;
  ScriptedClient client(client_options(), {big});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250 SIZE 1000\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 552 5.3.4", "message: 552 5.3.4", "ready"}));
}

TEST(SmtpClientMessage, SizeParameterWhenOffered) {
  auto message = message_to({"bob@example.net"});
  message.envelope.size = 1000;
  ScriptedClient client(client_options(), {message});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250 SIZE 1000\r\n"), "MAIL FROM:<alice@example.org> SIZE=1000\r\n");
}

TEST(SmtpClientMessage, ExtensionParametersOnlyWhenOffered) {
  auto message = message_to({"bob@example.net"});
  message.envelope.size = 10;
  message.envelope.body = BodyType::eight_bit_mime;
  message.envelope.smtputf8 = true;
  message.envelope.ret = DsnRet::headers;
  message.envelope.envid = "id+1=2";
  message.envelope.recipients[0].notify.failure = true;
  message.envelope.recipients[0].notify.delay = true;
  message.envelope.recipients[0].orcpt = Orcpt{"rfc822", "Bob@Example.net"};
  {
    ScriptedClient client(client_options(), {message});
    client.exchange(kGreeting);
    EXPECT_EQ(client.exchange("250-mx\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 DSN\r\n"),
              "MAIL FROM:<alice@example.org> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1+3D2\r\n"
              "RCPT TO:<bob@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Bob@Example.net\r\n"
              "DATA\r\n");
  }
  {
    ScriptedClient client(client_options(), {message});
    client.exchange(kGreeting);
    EXPECT_FALSE(client.engine().server_supports(Extension::smtputf8));
    EXPECT_EQ(client.exchange(kLockStep), "MAIL FROM:<alice@example.org>\r\n");
    EXPECT_EQ(client.exchange("250 ok\r\n"), "RCPT TO:<bob@example.net>\r\n");
  }
}

TEST(SmtpClientMessage, NotifyNeverStandsAlone) {
  auto message = message_to({"bob@example.net"});
  message.envelope.recipients[0].notify.never = true;
  message.envelope.sender = "";
  ScriptedClient client(client_options(), {message});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250-PIPELINING\r\n250 DSN\r\n"),
            "MAIL FROM:<>\r\nRCPT TO:<bob@example.net> NOTIFY=NEVER\r\nDATA\r\n");
}

TEST(SmtpClientMessage, AddressesThatWouldInjectAreRefused) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net>\r\nRSET"})});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange(kPipelining), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 553 5.1.3", "message: 553 5.1.3", "ready"}));
}

TEST(SmtpClientMessage, DotStuffing) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net"}, ".first\r\nmid.dle\r\n..two\r\n.\r\nlast")});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  // RFC 5321 §4.5.2: a leading "." is doubled; a missing final CRLF is added.
  EXPECT_EQ(client.exchange("250 ok\r\n250 ok\r\n354 go\r\n"),
            "..first\r\nmid.dle\r\n...two\r\n..\r\nlast\r\n.\r\n");
}

TEST(SmtpClientMessage, EmptyMessage) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net"}, "")});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("250 ok\r\n250 ok\r\n354 go\r\n"), ".\r\n");
}

TEST(SmtpClientMessage, SeveralMessagesOnOneConnection) {
  ScriptedClient client(client_options(), {message_to({"x@example.net"}), message_to({"bob@example.net"}, "b\r\n")});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  // First message: all recipients refused -> RSET, then the second goes out.
  EXPECT_EQ(client.exchange("250 ok\r\n550 5.1.1 no\r\n554 5.5.1 none\r\n"), "RSET\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 ok\r\n"),
            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n");
  EXPECT_EQ(client.exchange("250 ok\r\n250 2.1.5 ok\r\n354 go\r\n"), "b\r\n.\r\n");
  EXPECT_EQ(client.exchange("250 2.0.0 ok\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 550 5.1.1", "message: 550 5.1.1", "ready",
                                     "rcpt 0: 250 2.1.5", "data", "message: 250 2.0.0", "ready"}));
}

TEST(SmtpClientMessage, ServerClosingWith421MidTransaction) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "carol@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kPipelining);
  EXPECT_EQ(client.exchange("250 2.1.0 ok\r\n250 2.1.5 ok\r\n421 4.4.2 shutting down\r\n"), "");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5",
                                     "failed temporary: server is closing the connection"}));
  EXPECT_TRUE(client.engine().wants_close());
}

TEST(SmtpClientMessage, ServerClosingWith421DuringContent) {
  ClientEngine engine(client_options());
  engine.receive(kGreeting);
  engine.receive(kPipelining);
  ASSERT_TRUE(engine.next_event());  // ready
  engine.send_message(simple_envelope({"bob@example.net"}));
  engine.receive("250 ok\r\n250 ok\r\n354 go\r\n");
  ASSERT_TRUE(engine.next_event());  // rcpt 0
  ASSERT_TRUE(engine.next_event());  // data
  EXPECT_EQ(engine.awaiting(), ClientEngine::Awaiting::data);
  engine.receive("421 4.4.2 timeout\r\n");
  auto event = engine.next_event();
  ASSERT_TRUE(event);
  EXPECT_TRUE(std::holds_alternative<ConnectionFailed>(*event));
  EXPECT_TRUE(engine.wants_close());
}

TEST(SmtpClientMessage, WholeConversationByteByByte) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net", "nobody@example.net"})}, 1);
  EXPECT_EQ(client.exchange(kGreeting), "EHLO client.example.org\r\n");
  client.exchange(kLockStep);
  client.exchange("250-2.1.0 sender\r\n250 2.1.0 ok\r\n");
  client.exchange("250 2.1.5 ok\r\n");
  client.exchange("550-5.1.1 no\r\n550 5.1.1 such user\r\n");
  client.exchange("354 go\r\n");
  client.exchange("250 2.0.0 ok\r\n");
  client.exchange("221 bye\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "rcpt 0: 250 2.1.5", "rcpt 1: 550 5.1.1", "data",
                                     "message: 250 2.0.0", "ready", "finished"}));
}

TEST(SmtpClientMessage, IntermediateReplyToRcptFails) {
  ScriptedClient client(client_options(), {message_to({"bob@example.net"})});
  client.exchange(kGreeting);
  client.exchange(kLockStep);
  client.exchange("250 ok\r\n");
  EXPECT_EQ(client.exchange("354 what\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "failed temporary: unexpected reply to RCPT"}));
}

TEST(SmtpClientMessage, QuitDuringContentJustCloses) {
  ClientEngine engine(client_options());
  engine.receive(kGreeting);
  engine.receive(kPipelining);
  ASSERT_TRUE(engine.next_event());  // ready
  engine.send_message(simple_envelope({"bob@example.net"}));
  engine.consume_output(engine.pending_output().size());
  engine.receive("250 ok\r\n250 ok\r\n354 go\r\n");
  ASSERT_TRUE(engine.next_event());  // rcpt 0
  ASSERT_TRUE(engine.next_event());  // data
  engine.quit();
  EXPECT_TRUE(engine.pending_output().empty());
  auto event = engine.next_event();
  ASSERT_TRUE(event);
  EXPECT_TRUE(std::holds_alternative<Finished>(*event));
  EXPECT_TRUE(engine.wants_close());
}

TEST(SmtpClientMessage, CallsOutOfTurnAreIgnored) {
  ClientEngine engine(client_options());
  engine.send_message(simple_envelope({"bob@example.net"}));
  engine.message_data("x");
  engine.message_end();
  engine.tls_started();
  EXPECT_TRUE(engine.pending_output().empty());
  EXPECT_EQ(engine.awaiting(), ClientEngine::Awaiting::nothing);
}

}  // namespace
}  // namespace postamt::proto::smtp::testing
