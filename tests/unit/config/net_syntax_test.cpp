#include "server/config/net_syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postamt::config {
namespace {

using namespace std::string_view_literals;

TEST(NetSyntax, IpAddressesAreCanonical) {
  auto v4 = parse_ip_address("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, IpFamily::v4);
  EXPECT_EQ(v4->text, "192.0.2.1");
  auto v6 = parse_ip_address("2001:DB8:0:0::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, IpFamily::v6);
  EXPECT_EQ(v6->text, "2001:db8::1");
  EXPECT_EQ(parse_ip_address("::ffff:192.0.2.1")->family, IpFamily::v6);
}

TEST(NetSyntax, BadIpAddresses) {
  for (const auto text : {""sv, "1.2.3"sv, "1.2.3.4.5"sv, "256.1.1.1"sv, " 1.2.3.4"sv, "1.2.3.4 "sv,
                          "[::1]"sv, "fe80::1%eth0"sv, "localhost"sv, "::g"sv, "01.2.3.4"sv,
                          "1.2.3.4\0junk"sv, "1:2:3:4:5:6:7:8:9"sv}) {
    EXPECT_FALSE(parse_ip_address(text)) << text;
  }
  EXPECT_FALSE(parse_ip_address(std::string(100, '1')));
}

TEST(NetSyntax, Ports) {
  EXPECT_EQ(parse_port("0"), 0);
  EXPECT_EQ(parse_port("25"), 25);
  EXPECT_EQ(parse_port("65535"), 65535);
  for (const auto text :
       {""sv, "65536"sv, "-1"sv, "+1"sv, " 1"sv, "1 "sv, "0x19"sv, "999999"sv, "smtp"sv}) {
    EXPECT_FALSE(parse_port(text)) << text;
  }
}

TEST(NetSyntax, SplitHostPort) {
  auto plain = split_host_port("mail.example:25");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "mail.example");
  EXPECT_EQ(plain->port, "25");
  EXPECT_FALSE(plain->bracketed);

  auto bracketed = split_host_port("[::1]:143");
  ASSERT_TRUE(bracketed);
  EXPECT_EQ(bracketed->host, "::1");
  EXPECT_EQ(bracketed->port, "143");
  EXPECT_TRUE(bracketed->bracketed);

  auto bare_v6 = split_host_port("2001:db8::1");
  ASSERT_TRUE(bare_v6);
  EXPECT_EQ(bare_v6->host, "2001:db8::1");
  EXPECT_FALSE(bare_v6->port);

  auto no_port = split_host_port("[::1]");
  ASSERT_TRUE(no_port);
  EXPECT_FALSE(no_port->port);

  auto empty_port = split_host_port("host:");
  ASSERT_TRUE(empty_port);
  EXPECT_EQ(empty_port->port, "");

  EXPECT_FALSE(split_host_port("[::1"));
  EXPECT_FALSE(split_host_port("[::1]x"));
  EXPECT_FALSE(split_host_port("::1]:25"));
}

TEST(NetSyntax, DnsNames) {
  for (const auto text : {"localhost"sv, "mail.example.test"sv, "a-b.c0"sv,
                          "xn--bcher-kva.example"sv, "1mail.example"sv, "MAIL.Example.TEST"sv}) {
    EXPECT_TRUE(is_dns_name(text)) << text;
  }
  for (const auto text : {""sv, "."sv, "a..b"sv, ".a"sv, "a."sv, "-a.example"sv, "a-.example"sv,
                          "a_b.example"sv, "a b"sv, "192.0.2.1"sv, "mail.123"sv,
                          "b\xc3\xbc"
                          "cher.example"sv}) {
    EXPECT_FALSE(is_dns_name(text)) << text;
  }
  EXPECT_TRUE(is_dns_name(std::string(63, 'a') + ".example"));
  EXPECT_FALSE(is_dns_name(std::string(64, 'a') + ".example"));
  std::string long_name;
  while (long_name.size() < 250) {
    long_name += "abcdefghi.";
  }
  long_name += "com";
  ASSERT_EQ(long_name.size(), 253u);
  EXPECT_TRUE(is_dns_name(long_name));
  EXPECT_FALSE(is_dns_name(long_name + "m"));  // 253 bytes at most
}

TEST(NetSyntax, Cidr) {
  for (const auto text : {"0.0.0.0/0"sv, "127.0.0.0/8"sv, "192.0.2.1/32"sv, "::/0"sv, "::1/128"sv,
                          "2001:db8::/32"sv}) {
    EXPECT_TRUE(is_cidr(text)) << text;
  }
  for (const auto text :
       {""sv, "/8"sv, "127.0.0.0"sv, "127.0.0.0/"sv, "127.0.0.0/33"sv, "::/129"sv, "127.0.0.0/-1"sv,
        "127.0.0.0/8/8"sv, "[::1]/128"sv, "example.com/8"sv, "127.0.0.0/ 8"sv}) {
    EXPECT_FALSE(is_cidr(text)) << text;
  }
}

}  // namespace
}  // namespace postamt::config
