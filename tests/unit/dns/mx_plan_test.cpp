// MX planning (RFC 5321 §5.1, RFC 7505) without any DNS.
#include "dns/mx_plan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace postamt::dns {
namespace {

std::size_t always_first(std::size_t) { return 0; }

std::vector<std::string> names(const std::vector<MxHost>& hosts) {
  std::vector<std::string> out;
  for (const MxHost& host : hosts) out.push_back(host.host);
  return out;
}

TEST(MxPlan, SortsByPreference) {
  auto plan = plan_mx_hosts("example.org", {{30, "c.example.org"}, {10, "a.example.org"}, {20, "b.example.org"}},
                            always_first);
  ASSERT_TRUE(plan);
  EXPECT_EQ(names(*plan), (std::vector<std::string>{"a.example.org", "b.example.org", "c.example.org"}));
  EXPECT_EQ((*plan)[0].preference, 10);
  EXPECT_FALSE((*plan)[0].implicit);
}

TEST(MxPlan, ShufflesOnlyWithinEqualPreference) {
  // Fisher-Yates with a source that always picks 0 rotates the group: deterministic.
  auto plan = plan_mx_hosts("example.org", {{10, "a"}, {10, "b"}, {10, "c"}, {5, "first"}, {20, "last"}},
                            always_first);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), 5u);
  EXPECT_EQ((*plan)[0].host, "first");
  EXPECT_EQ((*plan)[4].host, "last");
  std::set<std::string> middle{(*plan)[1].host, (*plan)[2].host, (*plan)[3].host};
  EXPECT_EQ(middle, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_NE(names(*plan), (std::vector<std::string>{"first", "a", "b", "c", "last"}));  // moved
}

TEST(MxPlan, EveryOrderOfEqualPreferencesOccurs) {
  std::mt19937 engine(42);
  RandomSource random = [&](std::size_t bound) {
    return std::uniform_int_distribution<std::size_t>(0, bound - 1)(engine);
  };
  std::set<std::vector<std::string>> seen;
  for (int i = 0; i < 200; ++i) {
    auto plan = plan_mx_hosts("example.org", {{10, "a"}, {10, "b"}, {10, "c"}}, random);
    ASSERT_TRUE(plan);
    seen.insert(names(*plan));
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(MxPlan, MisbehavingRandomSourceStaysInRange) {
  auto plan = plan_mx_hosts("example.org", {{10, "a"}, {10, "b"}}, [](std::size_t) { return std::size_t{99}; });
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->size(), 2u);
}

TEST(MxPlan, NoRecordsIsImplicitMx) {
  auto plan = plan_mx_hosts("Example.ORG.", {}, always_first);
  ASSERT_TRUE(plan);
  EXPECT_EQ(*plan, (std::vector<MxHost>{MxHost{"example.org", 0, true}}));
}

TEST(MxPlan, SingleRootMxIsNullMx) {
  for (const char* root : {".", ""}) {
    auto plan = plan_mx_hosts("example.org", {{0, root}}, always_first);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().failure, DnsFailure::null_mx);
    EXPECT_TRUE(plan.error().permanent());
    EXPECT_EQ(plan.error().to_error().kind, ErrorKind::permanent);
  }
}

TEST(MxPlan, NullMxBesideRealHostsIsIgnored) {
  auto plan = plan_mx_hosts("example.org", {{0, "."}, {10, "mx.example.org"}}, always_first);
  ASSERT_TRUE(plan);
  EXPECT_EQ(names(*plan), (std::vector<std::string>{"mx.example.org"}));
}

TEST(MxPlan, OnlyRootRecordsIsNullMx) {
  auto plan = plan_mx_hosts("example.org", {{0, "."}, {10, ""}}, always_first);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().failure, DnsFailure::null_mx);
}

TEST(MxPlan, NormalizesAndDeduplicatesHosts) {
  auto plan = plan_mx_hosts("example.org", {{20, "MX.Example.org."}, {10, "mx.example.org"}, {30, "b.example.org"}},
                            always_first);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0], (MxHost{"mx.example.org", 10, false}));
  EXPECT_EQ((*plan)[1].host, "b.example.org");
}

TEST(MxPlan, KeepsAtMostTheMostPreferredHosts) {
  std::vector<MxRecord> records;
  for (int i = 0; i < 100; ++i)
    records.push_back({static_cast<std::uint16_t>(100 - i), "mx" + std::to_string(i) + ".example.org"});
  auto plan = plan_mx_hosts("example.org", records, always_first);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), kMaxMxHosts);
  EXPECT_EQ(plan->front().preference, 1);
  EXPECT_EQ(plan->back().preference, kMaxMxHosts);
}

TEST(MxPlan, EmptyDomainIsBadName) {
  auto plan = plan_mx_hosts(".", {}, always_first);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().failure, DnsFailure::bad_name);
}

TEST(DnsError, TemporaryAndPermanent) {
  EXPECT_TRUE((DnsError{DnsFailure::no_such_domain, ""}.permanent()));
  EXPECT_TRUE((DnsError{DnsFailure::server_failure, ""}.temporary()));
  EXPECT_TRUE((DnsError{DnsFailure::timeout, ""}.temporary()));
  EXPECT_TRUE((DnsError{DnsFailure::refused, ""}.temporary()));
  EXPECT_EQ((DnsError{DnsFailure::timeout, "x"}.to_error().kind), ErrorKind::temporary);
}

}  // namespace
}  // namespace postamt::dns
