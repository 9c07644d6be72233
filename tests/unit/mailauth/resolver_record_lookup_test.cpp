// ResolverRecordLookup over the c-ares resolver against a real DNS server (dns_zone.py):
// records, RCODEs, the AD bit, TTLs (records and RFC 2308 negative answers), the caps, and
// the shared cache.
#include "mailauth/resolver_record_lookup.hpp"

#include <gmock/gmock.h>

#include <algorithm>

#include "mailauth/spf_check.hpp"
#include "mailauth_zone.hpp"

namespace postamt::mailauth {
namespace {

using testing::MailauthZoneTest;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class ResolverRecordLookupTest : public MailauthZoneTest {
 protected:
  DnsAnswer ask(ResolverRecordLookup& lookup, std::string name, RecordType type) {
    return run(lookup.lookup(DnsQuestion{std::move(name), type}));
  }
  dns::RecordAnswer raw(std::string name, dns::RecordKind kind) {
    return run(resolver().lookup_records(std::move(name), kind));
  }
};

TEST_F(ResolverRecordLookupTest, TxtRecordsEachJoinedFromTheirStrings) {
  dns::RecordAnswer answer = raw("spf.test", dns::RecordKind::txt);
  EXPECT_EQ(answer.status, dns::LookupStatus::answered);
  EXPECT_EQ(answer.rcode, 0);
  EXPECT_THAT(answer.records, UnorderedElementsAre("v=spf1 ip4:192.0.2.0/24 -all", "other text"));
  EXPECT_EQ(answer.ttl, 120u);
  EXPECT_FALSE(answer.authentic);

  dns::RecordAnswer long_one = raw("long.test", dns::RecordKind::txt);
  ASSERT_EQ(long_one.records.size(), 1u);
  EXPECT_GT(long_one.records[0].size(), 255u);  // several character-strings, joined
  EXPECT_TRUE(long_one.records[0].starts_with("v=spf1 ip4:192.0.2.1 ip4:"));
  EXPECT_TRUE(long_one.records[0].ends_with(" -all"));
}

TEST_F(ResolverRecordLookupTest, AddressesMxAndPtrAsText) {
  EXPECT_THAT(raw("mx.spf.test", dns::RecordKind::a).records, ElementsAre("192.0.2.25"));
  EXPECT_THAT(raw("mx.spf.test", dns::RecordKind::aaaa).records, ElementsAre("2001:db8::25"));
  EXPECT_THAT(raw("spf.test", dns::RecordKind::mx).records, UnorderedElementsAre("mx.spf.test", "mx2.spf.test"));
  EXPECT_THAT(raw("1.2.0.192.in-addr.arpa", dns::RecordKind::ptr).records, ElementsAre("host.spf.test"));
}

TEST_F(ResolverRecordLookupTest, CnameChainIsFollowedWithinTheAnswer) {
  EXPECT_THAT(raw("alias.spf.test", dns::RecordKind::a).records, ElementsAre("192.0.2.25"));
}

TEST_F(ResolverRecordLookupTest, NegativeAnswersCarryTheSoaMinimumAsTtl) {
  dns::RecordAnswer nx = raw("nothing.spf.test", dns::RecordKind::txt);
  EXPECT_EQ(nx.status, dns::LookupStatus::answered);
  EXPECT_EQ(nx.rcode, 3);
  EXPECT_TRUE(nx.records.empty());
  EXPECT_EQ(nx.ttl, 42u);  // RFC 2308 §5: min(SOA TTL, MINIMUM)

  dns::RecordAnswer nodata = raw("empty.test", dns::RecordKind::txt);
  EXPECT_EQ(nodata.rcode, 0);
  EXPECT_TRUE(nodata.records.empty());
  EXPECT_EQ(nodata.ttl, 42u);
}

TEST_F(ResolverRecordLookupTest, TheAdBitIsReported) {
  EXPECT_TRUE(raw("signed.test", dns::RecordKind::txt).authentic);
  EXPECT_FALSE(raw("spf.test", dns::RecordKind::txt).authentic);
}

TEST_F(ResolverRecordLookupTest, FailuresAreTold) {
  dns::RecordAnswer servfail = raw("broken.test", dns::RecordKind::txt);
  EXPECT_EQ(servfail.status, dns::LookupStatus::answered) << servfail.problem;
  EXPECT_EQ(servfail.rcode, 2);
  EXPECT_EQ(raw("refused.test", dns::RecordKind::txt).rcode, 5);
  EXPECT_EQ(raw("silent.test", dns::RecordKind::txt).status, dns::LookupStatus::timeout);
  EXPECT_EQ(raw(std::string(64, 'a') + ".test", dns::RecordKind::txt).status, dns::LookupStatus::bad_name);
}

TEST_F(ResolverRecordLookupTest, AnswersOverTheCapAreRefused) {
  dns::RecordAnswer many = raw("many.test", dns::RecordKind::a);  // 70 records, over TCP
  EXPECT_EQ(many.status, dns::LookupStatus::too_large);
  ResolverRecordLookup lookup(resolver(), nullptr);
  DnsAnswer mapped = ask(lookup, "many.test", RecordType::a);
  EXPECT_TRUE(mapped.temporary());
}

TEST_F(ResolverRecordLookupTest, MapsOntoDnsAnswer) {
  ResolverRecordLookup lookup(resolver(), nullptr);
  DnsAnswer txt = ask(lookup, "spf.test", RecordType::txt);
  EXPECT_TRUE(txt.answered);
  EXPECT_EQ(txt.rcode, Rcode::no_error);
  EXPECT_EQ(txt.records.size(), 2u);
  EXPECT_TRUE(ask(lookup, "nothing.spf.test", RecordType::txt).empty());
  EXPECT_TRUE(ask(lookup, "empty.test", RecordType::txt).empty());
  DnsAnswer servfail = ask(lookup, "broken.test", RecordType::txt);
  EXPECT_TRUE(servfail.answered);
  EXPECT_EQ(servfail.rcode, Rcode::server_failure);
  EXPECT_TRUE(servfail.temporary());
  DnsAnswer silent = ask(lookup, "silent.test", RecordType::txt);
  EXPECT_FALSE(silent.answered);
  EXPECT_TRUE(silent.temporary());
  EXPECT_TRUE(ask(lookup, std::string(64, 'a') + ".test", RecordType::txt).empty());  // cannot exist
}

TEST_F(ResolverRecordLookupTest, TheSharedCacheAnswersRepeatsAndKeepsNegativesButNotTimeouts) {
  auto cache = std::make_shared<DnsCache>();
  ResolverRecordLookup lookup(resolver(), cache);
  ask(lookup, "spf.test", RecordType::txt);
  ask(lookup, "nothing.spf.test", RecordType::txt);
  ask(lookup, "silent.test", RecordType::txt);
  EXPECT_EQ(cache->size(), 2u);
  auto cached = cache->find(DnsQuestion{"SPF.test.", RecordType::txt});  // any case, trailing dot
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->records.size(), 2u);
  EXPECT_LE(cached->ttl, 120u);
  ASSERT_TRUE(cache->find(DnsQuestion{"nothing.spf.test", RecordType::txt}));
  EXPECT_FALSE(cache->find(DnsQuestion{"spf.test", RecordType::mx}));
}

TEST_F(ResolverRecordLookupTest, ConcurrentAsksOfOneQuestionGoOutOnce) {
  ResolverRecordLookup lookup(resolver(), nullptr);  // no cache: only the in-flight sharing
  std::vector<DnsQuestion> same(5, DnsQuestion{"coalesce.test", RecordType::txt});
  std::vector<DnsAnswer> answers = run(ask_all(lookup, same));
  ASSERT_EQ(answers.size(), 5u);
  for (const DnsAnswer& answer : answers) EXPECT_THAT(answer.records, ElementsAre("v=spf1 -all"));
  EXPECT_THAT(ask(lookup, "count.test", RecordType::txt).records, ElementsAre("1"));
  ask(lookup, "coalesce.test", RecordType::txt);  // once answered, a new ask goes out again
  EXPECT_THAT(ask(lookup, "count.test", RecordType::txt).records, ElementsAre("2"));
}

TEST_F(ResolverRecordLookupTest, PoolGivesEachContextItsOwnLookupOverOneCache) {
  asio::io_context other;  // outlives the pool: its resolver holds the context's executor
  RecordLookupPool pool(options());
  RecordLookup& here = pool.for_executor(io_.get_executor());
  RecordLookup& again = pool.for_executor(io_.get_executor());
  RecordLookup& there = pool.for_executor(other.get_executor());
  EXPECT_EQ(&here, &again);
  EXPECT_NE(&here, &there);
  DnsAnswer answer = run(here.lookup(DnsQuestion{"spf.test", RecordType::txt}));
  EXPECT_EQ(answer.records.size(), 2u);
  EXPECT_EQ(pool.cache()->size(), 1u);
  pool.shut_down();
  other.run();
  io_.restart();
  io_.poll();
}

}  // namespace
}  // namespace postamt::mailauth
