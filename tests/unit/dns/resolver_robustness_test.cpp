// The resolver against a DNS server that answers big, late, strangely or not at all:
// TCP after truncation, EDNS, the per-lookup deadline, hostile and malformed answers.
#include <chrono>
#include <string>

#include "dns/resolver.hpp"
#include "zone_fixture.hpp"

namespace postamt::dns {
namespace {

using namespace std::chrono_literals;
using testing::texts;

class ResolverRobustnessTest : public testing::ZoneServerTest {
 protected:
  static ResolverOptions without_edns() {
    ResolverOptions settings = options();
    settings.edns_payload_size = 0;
    return settings;
  }
};

// RFC 1035 §4.2.1: without EDNS a 666-octet answer comes truncated over UDP, then by TCP.
TEST_F(ResolverRobustnessTest, TruncatedAnswerIsFetchedOverTcp) {
  use(without_edns());
  auto addresses = run(resolver().lookup_addresses("big.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  ASSERT_EQ(addresses->size(), 40u);
  EXPECT_EQ(addresses->front().to_string(), "198.51.100.1");
}

// RFC 6891 §6.2.5: with EDNS (the default) the same size fits one UDP answer. This name's
// TCP queries go unanswered, so it resolves only if EDNS did its job...
TEST_F(ResolverRobustnessTest, EdnsCarriesLargeAnswersOverUdp) {
  auto addresses = run(resolver().lookup_addresses("udponly.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(addresses->size(), 40u);
}

// ...which it does not without EDNS.
TEST_F(ResolverRobustnessTest, WithoutEdnsTheUdpOnlyNameTimesOut) {
  use(without_edns());
  auto addresses = run(resolver().lookup_addresses("udponly.test"));
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().failure, DnsFailure::timeout);
}

// Over the EDNS size (about 2 KB per family): truncated even with EDNS, then TCP; the
// answer is capped per family.
TEST_F(ResolverRobustnessTest, AnswerLargerThanEdnsAllowsComesByTcpAndIsCapped) {
  auto addresses = run(resolver().lookup_addresses("huge.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  ASSERT_EQ(addresses->size(), 128u);  // 64 IPv6, then 64 IPv4
  EXPECT_EQ((*addresses)[0].to_string(), "2001:db8::1");
  EXPECT_TRUE((*addresses)[63].is_v6());
  EXPECT_EQ((*addresses)[64].to_string(), "203.0.113.1");
}

TEST_F(ResolverRobustnessTest, HundredsOfMxRecordsAreCut) {
  auto hosts = run(resolver().lookup_mx("manymx.test"));
  ASSERT_TRUE(hosts) << hosts.error().message;
  ASSERT_EQ(hosts->size(), kMaxMxHosts);
  for (const MxHost& host : *hosts) EXPECT_EQ(host.preference, 0);  // the most preferred
}

// RFC 6891 §7: a server that answers FORMERR without OPT does not know EDNS; c-ares asks again
// without it.
TEST_F(ResolverRobustnessTest, ServerWithoutEdnsIsAskedAgainWithoutIt) {
  auto addresses = run(resolver().lookup_addresses("oldserver.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(texts(*addresses), (std::vector<std::string>{"192.0.2.4"}));
}

TEST_F(ResolverRobustnessTest, LookupDeadlineEndsWhatCaresWouldStillRetry) {
  ResolverOptions settings = options();
  // c-ares alone: 5 + 10 + 20 s. The bounds below stay far under the first 5 s, so a loaded
  // machine (ASan, a parallel build) cannot make the deadline look broken.
  settings.attempt_timeout = 5s;
  settings.attempts = 3;
  settings.lookup_deadline = 300ms;
  use(settings);

  auto started = std::chrono::steady_clock::now();
  auto hosts = run(resolver().lookup_mx("silent.test"));
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().failure, DnsFailure::timeout);
  EXPECT_TRUE(hosts.error().temporary());
  EXPECT_NE(hosts.error().message.find("deadline"), std::string::npos) << hosts.error().message;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 3s);

  started = std::chrono::steady_clock::now();
  auto addresses = run(resolver().lookup_addresses("silent.test"));
  elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().failure, DnsFailure::timeout);
  EXPECT_LT(elapsed, 3s);

  // The abandoned queries are still being retried by c-ares; the resolver keeps working.
  auto answered = run(resolver().lookup_addresses("host.test"));
  ASSERT_TRUE(answered) << answered.error().message;
  EXPECT_EQ(answered->size(), 3u);
}

TEST_F(ResolverRobustnessTest, DeadlineStartsPerLookup) {
  ResolverOptions settings = options();
  settings.lookup_deadline = 400ms;
  use(settings);
  for (int i = 0; i < 3; ++i) {  // 3 x 400 ms in all: each lookup has its own deadline
    auto hosts = run(resolver().lookup_mx("silent.test"));
    ASSERT_FALSE(hosts);
    EXPECT_EQ(hosts.error().failure, DnsFailure::timeout);
    auto records = run(resolver().lookup_mx_records("multi.test"));
    ASSERT_TRUE(records) << records.error().message;
  }
}

TEST_F(ResolverRobustnessTest, DestroyingTheResolverAfterADeadlineFreesEverything) {
  ResolverOptions settings = options();
  settings.attempt_timeout = 2s;
  settings.lookup_deadline = 100ms;
  use(settings);
  auto hosts = run(resolver().lookup_mx("silent.test"));
  ASSERT_FALSE(hosts);
  resolver_.reset();  // c-ares still holds the abandoned query: it ends now (LeakSanitizer checks)
  io_.restart();
  io_.run_for(100ms);
}

TEST_F(ResolverRobustnessTest, CnameLoopEndsWithoutAddresses) {
  auto addresses = run(resolver().lookup_addresses("loop-a.test"));
  if (addresses) EXPECT_TRUE(addresses->empty());
  else EXPECT_TRUE(addresses.error().temporary()) << addresses.error().message;
  auto hosts = run(resolver().lookup_mx("loop-a.test"));  // CNAMEs only: implicit MX
  ASSERT_TRUE(hosts) << hosts.error().message;
  EXPECT_EQ(*hosts, (std::vector<MxHost>{MxHost{"loop-a.test", 0, true}}));
}

// A stub resolver follows CNAMEs only within the answer; a chain leading nowhere is NODATA.
TEST_F(ResolverRobustnessTest, DanglingCnameHasNoAddresses) {
  auto addresses = run(resolver().lookup_addresses("dangling.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_TRUE(addresses->empty());
}

// Record data shorter than its type needs, fewer records than the header counts, a name
// compression pointer to itself (RFC 1035 §4.1.4): temporary failures, never a crash.
TEST_F(ResolverRobustnessTest, MalformedAnswersAreTemporaryFailures) {
  for (const char* name : {"short-rdata.test", "missing-records.test", "bad-pointer.test"}) {
    auto addresses = run(resolver().lookup_addresses(name));
    ASSERT_FALSE(addresses) << name;
    EXPECT_EQ(addresses.error().failure, DnsFailure::server_failure) << name << ": " << addresses.error().message;
    EXPECT_TRUE(addresses.error().temporary());
  }
}

TEST_F(ResolverRobustnessTest, EdnsPayloadBelowTheClassicLimitIsRaisedTo512) {
  ResolverOptions settings = options();
  settings.edns_payload_size = 100;
  use(settings);
  auto addresses = run(resolver().lookup_addresses("host.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(addresses->size(), 3u);
}

}  // namespace
}  // namespace postamt::dns
