// SMTP client side, session setup: greeting, EHLO and the HELO fallback, STARTTLS per
// policy, AUTH PLAIN, QUIT and connection failures.
#include <gtest/gtest.h>

#include "smtp_client_test_driver.hpp"

namespace postamt::proto::smtp::testing {
namespace {

constexpr std::string_view kGreeting = "220 mx.example.net ESMTP\r\n";
constexpr std::string_view kEhlo = "EHLO client.example.org\r\n";

TEST(SmtpClientSession, GreetingEhloQuit) {
  ScriptedClient client(client_options(), {});
  EXPECT_EQ(client.exchange(kGreeting), kEhlo);
  EXPECT_EQ(client.exchange("250-mx.example.net\r\n250 PIPELINING\r\n"), "QUIT\r\n");
  EXPECT_TRUE(client.engine().server_supports(Extension::pipelining));
  EXPECT_FALSE(client.engine().server_supports(Extension::dsn));
  EXPECT_FALSE(client.engine().wants_close());
  EXPECT_EQ(client.exchange("221 2.0.0 bye\r\n"), "");
  EXPECT_EQ(client.events(), (Events{"ready", "finished"}));
  EXPECT_TRUE(client.engine().wants_close());
  EXPECT_EQ(client.engine().awaiting(), ClientEngine::Awaiting::closed);
}

TEST(SmtpClientSession, ServerClosingAfterQuitIsFinished) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  client.exchange("250 mx\r\n");
  client.close();
  EXPECT_EQ(client.events(), (Events{"ready", "finished"}));
}

TEST(SmtpClientSession, NothingIsSentBeforeTheGreeting) {
  ClientEngine engine(client_options());
  EXPECT_TRUE(engine.pending_output().empty());
  EXPECT_FALSE(engine.next_event());
}

TEST(SmtpClientSession, GreetingRefusedPermanently) {
  ScriptedClient client(client_options(), {});
  EXPECT_EQ(client.exchange("554 5.7.1 no service for you\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"failed permanent: greeting refused: 554"}));
  EXPECT_TRUE(client.engine().wants_close());
}

TEST(SmtpClientSession, GreetingWith421IsTemporary) {
  ScriptedClient client(client_options(), {});
  EXPECT_EQ(client.exchange("421 4.3.2 busy\r\n"), "");
  EXPECT_EQ(client.events(), (Events{"failed temporary: server is closing the connection"}));
}

TEST(SmtpClientSession, ConnectionFailedCarriesTheReply) {
  ClientEngine engine(client_options());
  engine.receive("554 5.7.1 go away\r\n");
  auto event = engine.next_event();
  ASSERT_TRUE(event);
  auto* failed = std::get_if<ConnectionFailed>(&*event);
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->temporary);
  ASSERT_TRUE(failed->reply);
  EXPECT_EQ(failed->reply->status, "5.7.1");
  EXPECT_EQ(failed->reply->text, "go away");
}

TEST(SmtpClientSession, HeloFallbackWhenEhloRefused) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("502 5.5.2 what is EHLO\r\n"), "HELO client.example.org\r\n");
  EXPECT_EQ(client.exchange("250 mx.example.net\r\n"), "QUIT\r\n");
  EXPECT_FALSE(client.engine().capabilities().extended);
  EXPECT_EQ(client.events(), (Events{"ready"}));
}

TEST(SmtpClientSession, HeloRefusedFails) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  client.exchange("500 no\r\n");
  EXPECT_EQ(client.exchange("550 no either\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"failed permanent: HELO refused: 550"}));
}

TEST(SmtpClientSession, EhloTemporaryFailureIsNoFallback) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("450 4.7.1 later\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"failed temporary: EHLO refused: 450"}));
}

TEST(SmtpClientSession, OpportunisticStartTlsThenEhloAgain) {
  auto options = client_options();
  options.tls = TlsPolicy::opportunistic;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"), "STARTTLS\r\n");
  EXPECT_FALSE(client.engine().tls_active());
  // RFC 3207 §4.2: EHLO again after the handshake; what was learnt before is forgotten.
  EXPECT_EQ(client.exchange("220 2.0.0 go ahead\r\n"), kEhlo);
  EXPECT_TRUE(client.engine().tls_active());
  EXPECT_FALSE(client.engine().server_supports(Extension::pipelining));
  EXPECT_EQ(client.exchange("250-mx\r\n250 8BITMIME\r\n"), "QUIT\r\n");
  EXPECT_TRUE(client.engine().server_supports(Extension::eight_bit_mime));
  EXPECT_EQ(client.events(), (Events{"tls", "ready"}));
}

TEST(SmtpClientSession, BytesInTheClearAfterStartTlsAreDiscarded) {
  auto options = client_options();
  options.tls = TlsPolicy::required;
  ScriptedClient client(options, {});
  client.tls_handshake_ok = false;
  client.exchange(kGreeting);
  client.exchange("250-mx\r\n250 STARTTLS\r\n");
  // An attacker appends a reply in the clear after the 220.
  EXPECT_EQ(client.exchange("220 go ahead\r\n250 injected\r\n"), "");
  EXPECT_EQ(client.engine().awaiting(), ClientEngine::Awaiting::tls);
  client.engine().tls_started();
  EXPECT_EQ(client.engine().pending_output(), kEhlo);
  client.engine().consume_output(kEhlo.size());
  client.engine().receive("250-mx\r\n250 SIZE 100\r\n");
  auto event = client.engine().next_event();
  ASSERT_TRUE(event);
  EXPECT_TRUE(std::holds_alternative<ClientReady>(*event));
  EXPECT_EQ(client.engine().capabilities().max_size, 100u);
}

TEST(SmtpClientSession, OpportunisticWithoutStartTlsGoesOnInTheClear) {
  auto options = client_options();
  options.tls = TlsPolicy::opportunistic;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250 PIPELINING\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready"}));
}

TEST(SmtpClientSession, OpportunisticStartTlsRefusedGoesOnInTheClear) {
  auto options = client_options();
  options.tls = TlsPolicy::opportunistic;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  client.exchange("250-mx\r\n250 STARTTLS\r\n");
  EXPECT_EQ(client.exchange("454 4.7.0 TLS not available\r\n"), "QUIT\r\n");
  EXPECT_FALSE(client.engine().tls_active());
  EXPECT_EQ(client.events(), (Events{"ready"}));
}

TEST(SmtpClientSession, RequiredTlsNotOfferedFails) {
  auto options = client_options();
  options.tls = TlsPolicy::required;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250 PIPELINING\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"failed permanent: TLS required but not offered"}));
  EXPECT_TRUE(client.engine().wants_close());
}

TEST(SmtpClientSession, RequiredTlsRefusedFails) {
  auto options = client_options();
  options.tls = TlsPolicy::required;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  client.exchange("250-mx\r\n250 STARTTLS\r\n");
  EXPECT_EQ(client.exchange("454 4.7.0 TLS not available\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"failed temporary: STARTTLS refused: 454"}));
}

TEST(SmtpClientSession, PolicyNoneNeverStartsTls) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250 STARTTLS\r\n"), "QUIT\r\n");
}

TEST(SmtpClientSession, ImplicitTlsSkipsStartTls) {
  auto options = client_options();
  options.tls = TlsPolicy::required;
  options.tls_active = true;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-mx\r\n250 STARTTLS\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"ready"}));
}

ClientOptions relay_options() {
  auto options = client_options();
  options.tls = TlsPolicy::required;
  options.credentials = ClientCredentials{"user", "secret"};
  return options;
}

TEST(SmtpClientSession, AuthPlainAfterTls) {
  ScriptedClient client(relay_options(), {});
  client.exchange(kGreeting);
  client.exchange("250-relay\r\n250-AUTH LOGIN\r\n250 STARTTLS\r\n");
  client.exchange("220 go\r\n");
  // base64("\0user\0secret") (RFC 4616)
  EXPECT_EQ(client.exchange("250-relay\r\n250 AUTH LOGIN PLAIN\r\n"),
            "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
  EXPECT_EQ(client.exchange("235 2.7.0 ok\r\n"), "QUIT\r\n");
  EXPECT_TRUE(client.engine().authenticated());
  EXPECT_EQ(client.events(), (Events{"tls", "ready"}));
}

TEST(SmtpClientSession, AuthFailureFailsTheSession) {
  ScriptedClient client(relay_options(), {});
  client.exchange(kGreeting);
  client.exchange("250-relay\r\n250 STARTTLS\r\n");
  client.exchange("220 go\r\n");
  client.exchange("250-relay\r\n250 AUTH PLAIN\r\n");
  EXPECT_EQ(client.exchange("535 5.7.8 bad credentials\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"tls", "failed permanent: authentication failed: 535"}));
}

TEST(SmtpClientSession, AuthNeedsTlsUnlessAllowed) {
  auto options = relay_options();
  options.tls = TlsPolicy::opportunistic;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-relay\r\n250 AUTH PLAIN\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(),
            (Events{"failed permanent: authentication needs TLS, which is not active"}));

  options.auth_without_tls = true;
  ScriptedClient allowed(options, {});
  allowed.exchange(kGreeting);
  EXPECT_EQ(allowed.exchange("250-relay\r\n250 AUTH PLAIN\r\n"), "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
}

TEST(SmtpClientSession, AuthWithoutPlainFails) {
  auto options = relay_options();
  options.tls_active = true;
  ScriptedClient client(options, {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("250-relay\r\n250 AUTH CRAM-MD5\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.events(), (Events{"failed permanent: server does not offer AUTH PLAIN"}));
}

TEST(SmtpClientSession, GarbageReplyFailsTemporarily) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  EXPECT_EQ(client.exchange("HTTP/1.1 400 Bad Request\r\n"), "");
  EXPECT_EQ(client.events(), (Events{"failed temporary: malformed reply"}));
  EXPECT_TRUE(client.engine().wants_close());
  EXPECT_EQ(client.exchange("250 ok\r\n"), "");  // ignored from now on
}

TEST(SmtpClientSession, OverLongReplyFailsTemporarily) {
  ScriptedClient client(client_options(), {});
  client.exchange(kGreeting);
  client.exchange("250 " + std::string(5000, 'x') + "\r\n");
  EXPECT_EQ(client.events(), (Events{"failed temporary: reply line too long"}));
}

TEST(SmtpClientSession, UnsolicitedReplyFails) {
  ScriptedClient client(client_options(), {});
  client.quit_when_idle = false;
  client.exchange(kGreeting);
  client.exchange("250 mx\r\n");
  client.exchange("250 surprise\r\n");
  EXPECT_EQ(client.events(), (Events{"ready", "failed temporary: unexpected reply from the server"}));
}

TEST(SmtpClientSession, ServerClosingMidSessionFails) {
  ScriptedClient client(client_options(), {});
  client.quit_when_idle = false;
  client.exchange(kGreeting);
  client.close();
  EXPECT_EQ(client.events(), (Events{"failed temporary: connection closed by the server"}));
}

TEST(SmtpClientSession, GreetingAndEhloSplitAtEveryByte) {
  ScriptedClient client(client_options(), {}, 1);
  EXPECT_EQ(client.exchange(kGreeting), kEhlo);
  EXPECT_EQ(client.exchange("250-mx.example.net\r\n250-SIZE 10\r\n250 DSN\r\n"), "QUIT\r\n");
  EXPECT_EQ(client.engine().capabilities().max_size, 10u);
  EXPECT_TRUE(client.engine().server_supports(Extension::dsn));
}

}  // namespace
}  // namespace postamt::proto::smtp::testing
