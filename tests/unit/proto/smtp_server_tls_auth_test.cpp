// SMTP server engine: STARTTLS (RFC 3207) and AUTH plumbing (RFC 4954).
#include <gtest/gtest.h>

#include <string>

#include "proto/smtp/server_engine.hpp"
#include "smtp_test_session.hpp"

namespace postamt::proto::smtp::testing {
namespace {

ServerOptions tls_options() {
  auto options = default_options();
  options.starttls_available = true;
  return options;
}

ServerOptions auth_options() {
  auto options = default_options();
  options.auth_mechanisms = {"PLAIN", "LOGIN"};
  return options;
}

TEST(SmtpServerTls, StartTlsDiscardsPipelinedCommandsAndResetsTheSession) {
  Session session(tls_options());
  // A man in the middle appends a command to the cleartext STARTTLS packet; it must not
  // run inside the TLS session (RFC 3207 §4.2, the CVE-2011-0411 family).
  session.feed("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<injected@x.example>\r\n");
  EXPECT_EQ(session.transcript().events, (Events{"EHLO c", "STARTTLS"}));
  EXPECT_TRUE(session.engine().tls_active());
  EXPECT_EQ(session.engine().buffered_input(), 0u);
  EXPECT_NE(session.transcript().output.find("220 2.0.0 Ready to start TLS\r\n"), std::string::npos);
  const std::size_t before = session.transcript().output.size();
  // After the handshake the client must EHLO again; STARTTLS is no longer offered.
  session.feed("MAIL FROM:<a@x.example>\r\nEHLO c\r\nSTARTTLS\r\nMAIL FROM:<a@x.example>\r\n");
  const std::string after = session.transcript().output.substr(before);
  EXPECT_EQ(replies(after), (Replies{"503 5.5.1", "250", "503 5.5.1", "250 2.1.0"}));
  EXPECT_EQ(after.find("STARTTLS"), std::string::npos);
  EXPECT_NE(after.find("503 5.5.1 Error: TLS already active"), std::string::npos);
}

TEST(SmtpServerTls, NothingIsReadUntilTheHandshakeCompletes) {
  Policy policy;
  policy.complete_tls = false;
  Session session(tls_options(), policy);
  session.feed("EHLO c\r\nSTARTTLS\r\nNOOP\r\n");
  EXPECT_EQ(session.engine().awaiting(), ServerEngine::Awaiting::tls);
  session.feed("NOOP\r\n");
  EXPECT_EQ(replies(session.transcript().output), (Replies{"220", "250", "220 2.0.0"}));
  session.engine().tls_started();
  EXPECT_EQ(session.engine().buffered_input(), 0u);
  session.feed("NOOP\r\n");
  EXPECT_EQ(replies(session.transcript().output), (Replies{"220", "250", "220 2.0.0", "250 2.0.0"}));
}

TEST(SmtpServerTls, StartTlsIsRefusedWhenItCannotApply) {
  const auto unavailable = run_all(default_options(), "EHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(replies(unavailable.output), (Replies{"220", "250", "502 5.5.1"}));
  const auto before_ehlo = run_all(tls_options(), "STARTTLS\r\nHELO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(replies(before_ehlo.output), (Replies{"220", "503 5.5.1", "250", "503 5.5.1"}));
  const auto in_transaction = run_all(tls_options(),
                                      "EHLO c\r\nMAIL FROM:<a@x.example>\r\nSTARTTLS\r\nSTARTTLS x\r\n");
  EXPECT_EQ(replies(in_transaction.output), (Replies{"220", "250", "250 2.1.0", "503 5.5.1", "503 5.5.1"}));
  auto active = tls_options();
  active.tls_active = true;
  const auto already = run_all(active, "EHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(replies(already.output), (Replies{"220", "250", "503 5.5.1"}));
}

TEST(SmtpServerTls, TlsRequiredRefusesMailUntilStartTls) {
  auto options = tls_options();
  options.tls_required = true;
  Session session(options);
  session.feed("EHLO c\r\nNOOP\r\nMAIL FROM:<a@x.example>\r\nVRFY x\r\nSTARTTLS\r\n");
  EXPECT_EQ(replies(session.transcript().output),
            (Replies{"220", "250", "250 2.0.0", "530 5.7.0", "530 5.7.0", "220 2.0.0"}));
  EXPECT_NE(session.transcript().output.find("530 5.7.0 Must issue a STARTTLS command first"),
            std::string::npos);
  session.feed("EHLO c\r\nMAIL FROM:<a@x.example>\r\n");
  EXPECT_EQ(replies(session.transcript().output).back(), "250 2.1.0");
}

TEST(SmtpServerAuth, PlainWithInitialResponse) {
  const auto t = run_all(auth_options(), "EHLO c\r\nAUTH plain AHVzZXIAcGFzcw==\r\nMAIL FROM:<a@x.example>\r\n");
  EXPECT_EQ(t.events, (Events{"EHLO c", "AUTH PLAIN AHVzZXIAcGFzcw==", "MAIL <a@x.example>"}));
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "235 2.7.0", "250 2.1.0"}));
}

TEST(SmtpServerAuth, ChallengeAndResponse) {
  Session session(auth_options());
  session.feed("EHLO c\r\nAUTH LOGIN\r\n");
  EXPECT_NE(session.transcript().output.find("\r\n334 \r\n"), std::string::npos);
  session.feed("dXNlcg==\r\n");
  EXPECT_EQ(session.transcript().events, (Events{"EHLO c", "AUTH LOGIN", "AUTH-RESPONSE dXNlcg=="}));
  EXPECT_EQ(session.engine().authenticated_user(), std::optional<std::string>("user"));
  EXPECT_EQ(replies(session.transcript().output), (Replies{"220", "250", "334", "235 2.7.0"}));
  // Once authenticated, AUTH is a sequence error (RFC 4954 §4).
  session.feed("AUTH PLAIN\r\n");
  EXPECT_EQ(replies(session.transcript().output).back(), "503 5.5.1");
}

TEST(SmtpServerAuth, ClientCancelsWithStar) {
  const auto t = run_all(auth_options(), "EHLO c\r\nAUTH LOGIN\r\n*\r\nNOOP\r\n");
  EXPECT_EQ(t.events, (Events{"EHLO c", "AUTH LOGIN", "AUTH-CANCELLED"}));
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "334", "501 5.0.0", "250 2.0.0"}));
}

TEST(SmtpServerAuth, FailedAuthentication) {
  const auto t = run_all(auth_options(), "EHLO c\r\nAUTH PLAIN YmFk\r\nAUTH LOGIN\r\nYmFk\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "535 5.7.8", "334", "535 5.7.8"}));
}

TEST(SmtpServerAuth, EmptyInitialResponseIsPassedAsEquals) {
  const auto t = run_all(auth_options(), "EHLO c\r\nAUTH PLAIN =\r\n");
  EXPECT_EQ(t.events, (Events{"EHLO c", "AUTH PLAIN ="}));
}

TEST(SmtpServerAuth, BadAuthCommands) {
  const auto t = run_all(auth_options(),
                         "AUTH PLAIN\r\n"              // before EHLO
                         "EHLO c\r\n"
                         "AUTH CRAM-MD5\r\n"           // not offered
                         "AUTH\r\n"                    // no mechanism
                         "AUTH PLAIN a$b\r\n"          // not base64
                         "AUTH PLAIN a b\r\n"          // two arguments
                         "AUTH LOGIN\r\n"
                         "not base64!\r\n"             // bad response cancels
                         "MAIL FROM:<a@x.example>\r\n"
                         "AUTH PLAIN\r\n");            // in a transaction
  EXPECT_EQ(replies(t.output), (Replies{"220", "503 5.5.1", "250", "504 5.5.4", "501 5.5.4",
                                        "501 5.5.2", "501 5.5.4", "334", "501 5.5.2", "250 2.1.0",
                                        "503 5.5.1"}));
  EXPECT_EQ(t.events, (Events{"EHLO c", "AUTH LOGIN", "AUTH-CANCELLED", "MAIL <a@x.example>"}));
}

TEST(SmtpServerAuth, NotOfferedWithoutMechanisms) {
  const auto t = run_all(default_options(), "EHLO c\r\nAUTH PLAIN\r\nMAIL FROM:<a@x.example> AUTH=<>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "503 5.5.1", "555 5.5.4"}));
  EXPECT_NE(t.output.find("503 5.5.1 Error: authentication not enabled"), std::string::npos);
}

// Submission offers AUTH only under TLS: before STARTTLS the client is told what to do
// (RFC 3207 §4: 530 5.7.0), not that AUTH does not exist.
TEST(SmtpServerAuth, AuthBeforeTlsAsksForStartTls) {
  auto options = tls_options();
  options.auth_needs_tls = true;
  options.auth_required = true;
  Session session(options);
  session.feed("EHLO c\r\nAUTH PLAIN AHUAcA==\r\n");
  EXPECT_EQ(replies(session.transcript().output), (Replies{"220", "250", "530 5.7.0"}));
  EXPECT_NE(session.transcript().output.find("530 5.7.0 Must issue a STARTTLS command first\r\n"),
            std::string::npos);
}

TEST(SmtpServerAuth, OverLongResponseLineCancels) {
  const auto t = run_all(auth_options(), "EHLO c\r\nAUTH LOGIN\r\n" + std::string(3000, 'A') + "\r\nNOOP\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "334", "500 5.5.6", "250 2.0.0"}));
  EXPECT_EQ(t.events.back(), "AUTH-CANCELLED");
}

TEST(SmtpServerAuth, AuthRequiredBeforeMail) {
  auto options = auth_options();
  options.auth_required = true;
  const auto t = run_all(options,
                         "EHLO c\r\nMAIL FROM:<a@x.example>\r\nAUTH PLAIN AHUAcA==\r\n"
                         "MAIL FROM:<a@x.example>\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "530 5.7.0", "235 2.7.0", "250 2.1.0"}));
  EXPECT_NE(t.output.find("530 5.7.0 Authentication required"), std::string::npos);
}

TEST(SmtpServerAuth, MechanismsOfferedOnlyAfterTls) {
  ServerEngine engine(tls_options());  // no AUTH in cleartext
  engine.start();
  engine.receive("EHLO c\r\nAUTH PLAIN\r\nSTARTTLS\r\n");
  while (auto event = engine.next_event()) {
    if (std::holds_alternative<StartTls>(*event)) {
      engine.set_auth_mechanisms({"PLAIN"});
      engine.tls_started();
    }
  }
  EXPECT_EQ(engine.pending_output().find("AUTH PLAIN\r\n"), std::string_view::npos);
  engine.consume_output(engine.pending_output().size());
  engine.receive("EHLO c\r\nAUTH PLAIN AHUAcA==\r\n");
  ASSERT_TRUE(engine.next_event());  // Ehlo
  auto begin = engine.next_event();
  ASSERT_TRUE(begin && std::holds_alternative<AuthBegin>(*begin));
  EXPECT_NE(engine.pending_output().find("250 AUTH PLAIN\r\n"), std::string_view::npos);
  engine.auth_succeeded("u");
  engine.set_auth_mechanisms({});  // withdrawn: the next EHLO no longer lists AUTH
  engine.consume_output(engine.pending_output().size());
  engine.receive("EHLO c\r\n");
  ASSERT_TRUE(engine.next_event());
  EXPECT_EQ(engine.pending_output().find("AUTH"), std::string_view::npos);
}

TEST(SmtpServerAuth, StartTlsForgetsAuthentication) {
  auto options = auth_options();
  options.starttls_available = true;
  options.auth_required = true;
  Session session(options);
  session.feed("EHLO c\r\nAUTH PLAIN AHUAcA==\r\n");
  EXPECT_TRUE(session.engine().authenticated_user());
  session.feed("STARTTLS\r\n");
  EXPECT_FALSE(session.engine().authenticated_user());
  session.feed("EHLO c\r\nMAIL FROM:<a@x.example>\r\n");
  EXPECT_EQ(replies(session.transcript().output).back(), "530 5.7.0");
}

}  // namespace
}  // namespace postamt::proto::smtp::testing
