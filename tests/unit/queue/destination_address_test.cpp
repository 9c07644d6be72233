#include "queue/destination_address.hpp"

#include <gtest/gtest.h>

namespace postamt::queue {
namespace {

std::optional<std::string_view> kind(const char* text) { return non_public_kind(asio::ip::make_address(text)); }

TEST(NonPublicKind, NamesTheSpecialIpv4Blocks) {
  EXPECT_EQ(kind("127.0.0.1"), "loopback");
  EXPECT_EQ(kind("127.0.10.2"), "loopback");
  EXPECT_EQ(kind("10.1.2.3"), "private");
  EXPECT_EQ(kind("172.16.0.1"), "private");
  EXPECT_EQ(kind("172.31.255.255"), "private");
  EXPECT_EQ(kind("192.168.1.1"), "private");
  EXPECT_EQ(kind("169.254.169.254"), "link-local");  // cloud metadata services live here
  EXPECT_EQ(kind("0.0.0.0"), "unspecified");
  EXPECT_EQ(kind("100.64.0.1"), "shared (CGN)");
  EXPECT_EQ(kind("192.0.2.7"), "documentation");
  EXPECT_EQ(kind("224.0.0.1"), "multicast");
  EXPECT_EQ(kind("255.255.255.255"), "reserved");
}

TEST(NonPublicKind, LetsGlobalIpv4Through) {
  for (const char* text : {"8.8.8.8", "172.15.255.255", "172.32.0.0", "192.169.0.1", "100.128.0.1", "1.1.1.1"}) {
    EXPECT_EQ(kind(text), std::nullopt) << text;
  }
}

TEST(NonPublicKind, NamesTheSpecialIpv6Blocks) {
  EXPECT_EQ(kind("::"), "unspecified");
  EXPECT_EQ(kind("::1"), "loopback");
  EXPECT_EQ(kind("fc00::1"), "private");
  EXPECT_EQ(kind("fd12:3456::1"), "private");
  EXPECT_EQ(kind("fe80::1"), "link-local");
  EXPECT_EQ(kind("ff02::1"), "multicast");
  EXPECT_EQ(kind("2001:db8::25"), "documentation");
  EXPECT_EQ(kind("::ffff:127.0.0.1"), "loopback");    // IPv4-mapped: judged as IPv4
  EXPECT_EQ(kind("64:ff9b::10.0.0.1"), "private");    // NAT64 of a private address
  EXPECT_EQ(kind("100::1"), "discard");
}

TEST(NonPublicKind, LetsGlobalIpv6Through) {
  for (const char* text : {"2a00:1450:4001:82b::1b", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"}) {
    EXPECT_EQ(kind(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace postamt::queue
