#include "proto/mailauth/ip_address.hpp"

#include <gtest/gtest.h>

namespace postamt::mailauth {
namespace {

TEST(MailauthIpAddress, ParsesAndWritesBothFamilies) {
  EXPECT_EQ(IpAddress::parse("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(IpAddress::parse("2001:DB8::1")->to_string(), "2001:db8::1");
  auto mapped = IpAddress::parse("::FFFF:1.2.3.4");
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->v6);  // RFC 7208 §5: IPv4-mapped is IPv4
  EXPECT_EQ(mapped->to_string(), "1.2.3.4");
  EXPECT_FALSE(IpAddress::parse("1.2.3"));
  EXPECT_FALSE(IpAddress::parse("example.com"));
  EXPECT_FALSE(IpAddress::parse(""));
}

TEST(MailauthIpAddress, NetworksByPrefix) {
  auto ip = *IpAddress::parse("192.0.2.130");
  EXPECT_TRUE(ip.in_network(*IpAddress::parse("192.0.2.128"), 25));
  EXPECT_FALSE(ip.in_network(*IpAddress::parse("192.0.2.0"), 25));
  EXPECT_TRUE(ip.in_network(*IpAddress::parse("10.0.0.0"), 0));
  EXPECT_FALSE(ip.in_network(*IpAddress::parse("::"), 0));  // other family
  auto v6 = *IpAddress::parse("cafe:babe:8000::1");
  EXPECT_TRUE(v6.in_network(*IpAddress::parse("cafe:babe:8000::"), 33));
  EXPECT_FALSE(v6.in_network(*IpAddress::parse("cafe:babe::"), 33));
}

TEST(MailauthIpAddress, DottedAndReverseForms) {
  auto v6 = *IpAddress::parse("2001:db8::cb01");
  EXPECT_EQ(v6.dotted(), "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
  EXPECT_EQ(v6.reverse_name(), "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(IpAddress::parse("192.0.2.3")->reverse_name(), "3.2.0.192.in-addr.arpa");
}

}  // namespace
}  // namespace postamt::mailauth
