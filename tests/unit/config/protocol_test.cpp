// The protocol helpers and ListenerConfig::address() of base/config.hpp.
#include <gtest/gtest.h>

#include "base/config.hpp"

namespace postamt {
namespace {

constexpr Protocol kAll[] = {Protocol::smtp,  Protocol::submission, Protocol::submissions,
                             Protocol::imap,  Protocol::imaps,      Protocol::pop3,
                             Protocol::pop3s, Protocol::http};

TEST(Protocol, NamesRoundTrip) {
  for (const Protocol protocol : kAll) {
    EXPECT_EQ(protocol_from_name(protocol_name(protocol)), protocol);
  }
  EXPECT_EQ(protocol_name(Protocol::submissions), "submissions");
  EXPECT_EQ(protocol_name(Protocol::pop3), "pop3");
}

TEST(Protocol, UnknownNames) {
  EXPECT_FALSE(protocol_from_name(""));
  EXPECT_FALSE(protocol_from_name("SMTP"));
  EXPECT_FALSE(protocol_from_name("lmtp"));
  EXPECT_FALSE(protocol_from_name("smtp "));
}

TEST(Protocol, ImplicitTls) {
  for (const Protocol protocol : kAll) {
    const bool expected = protocol == Protocol::submissions || protocol == Protocol::imaps ||
                          protocol == Protocol::pop3s;
    EXPECT_EQ(protocol_uses_implicit_tls(protocol), expected) << protocol_name(protocol);
  }
}

TEST(ListenerConfig, AddressBracketsIpv6) {
  EXPECT_EQ((ListenerConfig{Protocol::smtp, "127.0.0.1", 25}.address()), "127.0.0.1:25");
  EXPECT_EQ((ListenerConfig{Protocol::imap, "::1", 143}.address()), "[::1]:143");
  EXPECT_EQ((ListenerConfig{Protocol::http, "0.0.0.0", 0}.address()), "0.0.0.0:0");
  EXPECT_EQ(ListenerConfig{}.address(), ":0");
}

}  // namespace
}  // namespace postamt
