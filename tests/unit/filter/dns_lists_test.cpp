#include "filter/dns_lists.hpp"

#include <gtest/gtest.h>

namespace postamt::filter {
namespace {

TEST(DnsLists, QueryNamesFollowRfc5782) {
  EXPECT_EQ(dns_list_query("192.0.2.99", "bl.example"), "99.2.0.192.bl.example");
  // §2.4: 2001:db8:1:2:3:4:567:89ab as 32 nibbles, least significant first.
  EXPECT_EQ(dns_list_query("2001:db8:1:2:3:4:567:89ab", "bl.example"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
  EXPECT_EQ(dns_list_query("not an address", "bl.example"), std::nullopt);
}

TEST(DnsLists, AnswersCountOnlyInsideLoopbackOrAsConfigured) {
  DnsListConfig any{"bl.example", 1.0, {}};
  EXPECT_TRUE(dns_list_match(mailauth::DnsAnswer::with({"127.0.0.2"}), any));
  EXPECT_FALSE(dns_list_match(mailauth::DnsAnswer::with({"192.0.2.1"}), any));
  // Spamhaus-style "query refused" codes are not listings.
  EXPECT_FALSE(dns_list_match(mailauth::DnsAnswer::with({"127.255.255.254"}), any));
  EXPECT_FALSE(dns_list_match(mailauth::DnsAnswer::nx_domain(), any));
  EXPECT_FALSE(dns_list_match(mailauth::DnsAnswer::timed_out(), any));
  DnsListConfig only4{"bl.example", 1.0, {"127.0.0.4"}};
  EXPECT_FALSE(dns_list_match(mailauth::DnsAnswer::with({"127.0.0.2"}), only4));
  EXPECT_TRUE(dns_list_match(mailauth::DnsAnswer::with({"127.0.0.2", "127.0.0.4"}), only4));
}

TEST(DnsLists, OneBlockListingRefusesAndNamesTheList) {
  const Verdict v = dns_list_verdict("192.0.2.99", {{"zen.example", 1.0, true, true, false, "127.0.0.2"}}, 1.0);
  EXPECT_EQ(v.action, Action::reject);
  ASSERT_TRUE(v.reply);
  EXPECT_EQ(v.reply->code, 550u);
  EXPECT_EQ(v.reply->status, "5.7.1");
  EXPECT_NE(v.reply->text.find("zen.example"), std::string::npos);
  EXPECT_NE(v.reply->text.find("192.0.2.99"), std::string::npos);
}

TEST(DnsLists, AnAllowListingOutweighsABlockListing) {
  const Verdict v = dns_list_verdict("192.0.2.99",
                                     {{"zen.example", 1.0, true, true, false, "127.0.0.2"},
                                      {"wl.example", -10.0, false, true, false, "127.0.0.2"}},
                                     1.0);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_EQ(v.symbols.size(), 2u);
}

TEST(DnsLists, LightListingsGoToJunkAndFailuresCountAsUnlisted) {
  const Verdict v = dns_list_verdict("192.0.2.99",
                                     {{"a.example", 0.5, true, true, false, "127.0.0.2"},
                                      {"b.example", 0.5, true, false, true, ""}},
                                     1.0);
  EXPECT_EQ(v.action, Action::junk);
  EXPECT_NE(v.note.find("b.example"), std::string::npos);
  const Verdict none = dns_list_verdict("192.0.2.99", {{"a.example", 1.0, true, false, false, ""}}, 1.0);
  EXPECT_EQ(none.action, Action::accept);
  EXPECT_FALSE(none.score);
}

}  // namespace
}  // namespace postamt::filter
