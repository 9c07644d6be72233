#include "net/ip_network.hpp"

#include <gtest/gtest.h>

namespace postamt::net {
namespace {

TEST(IpNetwork, Ipv4Prefixes) {
  auto net = IpNetwork::parse("192.0.2.0/24");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains("192.0.2.1"));
  EXPECT_TRUE(net->contains("192.0.2.255"));
  EXPECT_FALSE(net->contains("192.0.3.1"));
  EXPECT_TRUE(net->contains("::ffff:192.0.2.9"));  // IPv4-mapped
  auto odd = IpNetwork::parse("10.128.0.0/9");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains("10.200.1.1"));
  EXPECT_FALSE(odd->contains("10.127.1.1"));
  auto all = IpNetwork::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("203.0.113.5"));
  EXPECT_FALSE(all->contains("::1"));
}

TEST(IpNetwork, Ipv6AndSingleAddresses) {
  auto net = IpNetwork::parse("2001:db8::/32");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains("2001:db8:ffff::1"));
  EXPECT_FALSE(net->contains("2001:db9::1"));
  EXPECT_FALSE(net->contains("192.0.2.1"));
  auto one = IpNetwork::parse("::1");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains("::1"));
  EXPECT_FALSE(one->contains("::2"));
}

TEST(IpNetwork, RefusesMalformed) {
  for (const char* bad : {"", "192.0.2.0/33", "192.0.2.0/", "192.0.2/24", "::/129", "x/8", "1.2.3.4/8x"}) {
    EXPECT_FALSE(IpNetwork::parse(bad)) << bad;
  }
  EXPECT_THROW(IpNetworkList({"127.0.0.0/8", "nope"}), std::invalid_argument);
  IpNetworkList list({"127.0.0.0/8", "::1"});
  EXPECT_TRUE(list.contains("127.5.5.5"));
  EXPECT_TRUE(list.contains("::1"));
  EXPECT_FALSE(list.contains("192.0.2.1"));
  EXPECT_FALSE(list.contains("not an ip"));
}

TEST(IpNetwork, ClientNetworkKeyIsTheAddressOrItsSlash64) {
  EXPECT_EQ(client_network_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(client_network_key("2001:db8:1:2:aaaa::9"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_network_key("2001:db8:1:2::1"), client_network_key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_NE(client_network_key("2001:db8:1:2::1"), client_network_key("2001:db8:1:3::1"));
}

}  // namespace
}  // namespace postamt::net
