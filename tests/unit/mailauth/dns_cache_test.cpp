#include "mailauth/dns_cache.hpp"

#include <gtest/gtest.h>

namespace postamt::mailauth {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  DnsCache::Clock::time_point now{};
  std::function<DnsCache::Clock::time_point()> function() {
    return [this] { return now; };
  }
};

DnsQuestion txt(std::string name) { return DnsQuestion{std::move(name), RecordType::txt}; }

TEST(DnsCache, KeepsAnAnswerForItsTtlAndCountsDown) {
  FakeClock clock;
  DnsCache cache(10, clock.function());
  cache.store(txt("example.org"), DnsAnswer::with({"v=spf1 -all"}, 60));
  clock.now += 20s;
  auto found = cache.find(txt("Example.ORG."));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->records.front(), "v=spf1 -all");
  EXPECT_EQ(found->ttl, 40u);
  clock.now += 40s;
  EXPECT_FALSE(cache.find(txt("example.org")));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(DnsCache, NegativeAnswersAreKeptTemporaryOnesBrieflyTimeoutsNever) {
  FakeClock clock;
  DnsCache cache(10, clock.function());
  cache.store(txt("gone.example"), DnsAnswer::nx_domain());
  DnsAnswer servfail;
  servfail.answered = true;
  servfail.rcode = Rcode::server_failure;
  servfail.ttl = 3600;
  cache.store(txt("broken.example"), servfail);
  cache.store(txt("silent.example"), DnsAnswer::timed_out());
  EXPECT_TRUE(cache.find(txt("gone.example")));
  EXPECT_TRUE(cache.find(txt("broken.example")));
  EXPECT_FALSE(cache.find(txt("silent.example")));
  clock.now += std::chrono::seconds(DnsCache::kFailureTtl);
  EXPECT_FALSE(cache.find(txt("broken.example")));
  EXPECT_TRUE(cache.find(txt("gone.example")));
}

TEST(DnsCache, ZeroTtlIsNotKeptAndHugeTtlIsCapped) {
  FakeClock clock;
  DnsCache cache(10, clock.function());
  cache.store(txt("zero.example"), DnsAnswer::with({"x"}, 0));
  EXPECT_FALSE(cache.find(txt("zero.example")));
  cache.store(txt("forever.example"), DnsAnswer::with({"x"}, 0x7FFFFFFF));
  EXPECT_EQ(cache.find(txt("forever.example"))->ttl, DnsCache::kMaxTtl);
}

TEST(DnsCache, TypesAreSeparate) {
  DnsCache cache;
  cache.store(DnsQuestion{"example.org", RecordType::a}, DnsAnswer::with({"192.0.2.1"}));
  EXPECT_FALSE(cache.find(DnsQuestion{"example.org", RecordType::aaaa}));
  EXPECT_TRUE(cache.find(DnsQuestion{"example.org", RecordType::a}));
}

TEST(DnsCache, TheLeastRecentlyUsedGoesFirstWhenFull) {
  DnsCache cache(3);
  cache.store(txt("a.example"), DnsAnswer::with({"a"}));
  cache.store(txt("b.example"), DnsAnswer::with({"b"}));
  cache.store(txt("c.example"), DnsAnswer::with({"c"}));
  EXPECT_TRUE(cache.find(txt("a.example")));  // a is now the most recent
  cache.store(txt("d.example"), DnsAnswer::with({"d"}));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.find(txt("a.example")));
  EXPECT_FALSE(cache.find(txt("b.example")));
  EXPECT_TRUE(cache.find(txt("c.example")));
  EXPECT_TRUE(cache.find(txt("d.example")));
}

TEST(DnsCache, ARecordTextBudgetBoundsMemory) {
  DnsCache cache(100, {}, 1000);
  std::string big(300, 'x');
  for (int i = 0; i < 5; ++i) cache.store(txt("n" + std::to_string(i) + ".example"), DnsAnswer::with({big}));
  EXPECT_LE(cache.bytes(), 1000u);
  EXPECT_EQ(cache.size(), 3u);  // the two oldest went
  EXPECT_FALSE(cache.find(txt("n0.example")));
  EXPECT_TRUE(cache.find(txt("n4.example")));
  cache.store(txt("huge.example"), DnsAnswer::with({std::string(2000, 'y')}));  // over the budget alone
  EXPECT_FALSE(cache.find(txt("huge.example")));
  EXPECT_EQ(cache.size(), 3u);
}

}  // namespace
}  // namespace postamt::mailauth
