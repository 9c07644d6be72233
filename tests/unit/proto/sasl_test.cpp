#include "proto/sasl/server_exchange.hpp"

#include <gtest/gtest.h>

#include "base/base64.hpp"

namespace postamt::proto::sasl {
namespace {

using namespace std::string_literals;

TEST(Sasl, MechanismNames) {
  EXPECT_EQ(mechanism_from_name("plain"), Mechanism::plain);
  EXPECT_EQ(mechanism_from_name("LOGIN"), Mechanism::login);
  EXPECT_FALSE(mechanism_from_name("CRAM-MD5"));
}

TEST(Sasl, PlainWithInitialResponse) {
  ServerExchange exchange(Mechanism::plain);
  auto step = exchange.start(base64_encode("\0alice@example.test\0secret"s));
  auto* credentials = std::get_if<Credentials>(&step);
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->authzid, "");
  EXPECT_EQ(credentials->authcid, "alice@example.test");
  EXPECT_EQ(credentials->password, "secret");
}

TEST(Sasl, PlainWithAuthzidAfterEmptyChallenge) {
  ServerExchange exchange(Mechanism::plain);
  auto first = exchange.start(std::nullopt);
  ASSERT_TRUE(std::holds_alternative<Challenge>(first));
  EXPECT_EQ(std::get<Challenge>(first).base64, "");
  auto second = exchange.respond(base64_encode("bob\0alice\0pw"s));
  auto* credentials = std::get_if<Credentials>(&second);
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->authzid, "bob");
  EXPECT_EQ(credentials->authcid, "alice");
}

TEST(Sasl, PlainRejectsMalformedMessages) {
  for (const std::string& message : {"alice"s, "\0alice"s, "\0\0pw"s, "a\0b\0c\0d"s,
                                     "\0"s + std::string(300, 'u') + "\0pw"s}) {
    ServerExchange exchange(Mechanism::plain);
    auto step = exchange.start(base64_encode(message));
    ASSERT_TRUE(std::holds_alternative<Failure>(step)) << message.size();
    EXPECT_EQ(std::get<Failure>(step).reason, Failure::Reason::malformed);
  }
  ServerExchange exchange(Mechanism::plain);
  EXPECT_TRUE(std::holds_alternative<Failure>(exchange.start("not base64!")));
}

TEST(Sasl, LoginTwoChallenges) {
  ServerExchange exchange(Mechanism::login);
  auto first = exchange.start(std::nullopt);
  ASSERT_TRUE(std::holds_alternative<Challenge>(first));
  EXPECT_EQ(base64_decode(std::get<Challenge>(first).base64), "Username:");
  auto second = exchange.respond(base64_encode("alice"));
  ASSERT_TRUE(std::holds_alternative<Challenge>(second));
  EXPECT_EQ(base64_decode(std::get<Challenge>(second).base64), "Password:");
  auto third = exchange.respond(base64_encode("secret"));
  auto* credentials = std::get_if<Credentials>(&third);
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->authcid, "alice");
  EXPECT_EQ(credentials->password, "secret");
}

TEST(Sasl, LoginWithInitialUserName) {
  ServerExchange exchange(Mechanism::login);
  auto first = exchange.start(base64_encode("alice"));
  ASSERT_TRUE(std::holds_alternative<Challenge>(first));
  EXPECT_EQ(base64_decode(std::get<Challenge>(first).base64), "Password:");
  auto second = exchange.respond(base64_encode("pw"));
  ASSERT_TRUE(std::holds_alternative<Credentials>(second));
}

TEST(Sasl, StarCancels) {
  ServerExchange exchange(Mechanism::login);
  exchange.start(std::nullopt);
  auto step = exchange.respond("*");
  ASSERT_TRUE(std::holds_alternative<Failure>(step));
  EXPECT_EQ(std::get<Failure>(step).reason, Failure::Reason::cancelled);
  // Nothing more is accepted after the exchange ended.
  EXPECT_TRUE(std::holds_alternative<Failure>(exchange.respond(base64_encode("x"))));
}

TEST(Sasl, EqualsIsAnEmptyResponse) {
  ServerExchange exchange(Mechanism::plain);
  auto step = exchange.start("=");
  ASSERT_TRUE(std::holds_alternative<Failure>(step));  // an empty PLAIN message is malformed
}

}  // namespace
}  // namespace postamt::proto::sasl
