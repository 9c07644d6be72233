// check_spf over a scripted RecordLookup: each step's questions are asked at once, the
// outcome carries the verdict, explanation and Received-SPF; and once over the real
// resolver (dns_zone.py).
#include "mailauth/spf_check.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <gmock/gmock.h>

#include <map>

#include "mailauth/resolver_record_lookup.hpp"
#include "mailauth_zone.hpp"

namespace postamt::mailauth {
namespace {

using namespace std::chrono_literals;
using testing::MailauthZoneTest;

// Answers from a map after a short wait, counting how many lookups overlap.
class ScriptedLookup final : public RecordLookup {
 public:
  std::map<std::pair<std::string, RecordType>, DnsAnswer> zone;
  int in_flight = 0;
  int most_in_flight = 0;
  int asked = 0;

  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override {
    ++asked;
    most_in_flight = std::max(most_in_flight, ++in_flight);
    asio::steady_timer wait(co_await asio::this_coro::executor, 5ms);
    co_await wait.async_wait(asio::use_awaitable);
    --in_flight;
    auto found = zone.find({question.name, question.type});
    co_return found == zone.end() ? DnsAnswer::nx_domain() : found->second;
  }
};

class SpfCheckTest : public MailauthZoneTest {};

SpfRequest make_request(std::string ip, std::string helo, std::string mail_from, std::string receiver = {}) {
  SpfRequest request;
  request.client_ip = std::move(ip);
  request.helo = std::move(helo);
  request.mail_from = std::move(mail_from);
  request.receiver = std::move(receiver);
  return request;
}

TEST_F(SpfCheckTest, MxHostsAreLookedUpAtOnce) {
  ScriptedLookup dns;
  dns.zone[{"example.org", RecordType::txt}] = DnsAnswer::with({"v=spf1 mx -all"});
  dns.zone[{"example.org", RecordType::mx}] = DnsAnswer::with({"mx1.example.org", "mx2.example.org", "mx3.example.org"});
  dns.zone[{"mx1.example.org", RecordType::a}] = DnsAnswer::with({"192.0.2.1"});
  dns.zone[{"mx2.example.org", RecordType::a}] = DnsAnswer::with({"192.0.2.2"});
  dns.zone[{"mx3.example.org", RecordType::a}] = DnsAnswer::with({"192.0.2.3"});
  SpfRequest request;
  request.client_ip = "192.0.2.3";
  request.helo = "mx3.example.org";
  request.mail_from = "alice@example.org";
  request.receiver = "mail.example.net";
  SpfOutcome outcome = run(check_spf(dns, request));
  EXPECT_EQ(outcome.result, SpfResult::pass);
  EXPECT_EQ(outcome.mechanism, "mx");
  EXPECT_EQ(outcome.domain, "example.org");
  EXPECT_EQ(dns.most_in_flight, 3);
  EXPECT_EQ(dns.asked, 5);
  EXPECT_EQ(outcome.received_spf,
            "pass (mail.example.net: domain of alice@example.org designates 192.0.2.3 as permitted sender) "
            "client-ip=192.0.2.3; envelope-from=\"alice@example.org\"; helo=mx3.example.org; "
            "receiver=mail.example.net; identity=mailfrom; mechanism=mx");
}

TEST_F(SpfCheckTest, FailCarriesTheExplanation) {
  ScriptedLookup dns;
  dns.zone[{"example.org", RecordType::txt}] = DnsAnswer::with({"v=spf1 -all exp=why.example.org"});
  dns.zone[{"why.example.org", RecordType::txt}] = DnsAnswer::with({"%{i} may not send for %{d} (%{r})"});
  SpfRequest request = make_request("198.51.100.7", "h.example", "bob@example.org", "mail.example.net");
  SpfOutcome outcome = run(check_spf(dns, request));
  EXPECT_EQ(outcome.result, SpfResult::fail);
  EXPECT_TRUE(outcome.explanation_from_record);
  EXPECT_EQ(outcome.explanation, "198.51.100.7 may not send for example.org (mail.example.net)");
}

TEST_F(SpfCheckTest, TheHeloIdentityIsCheckedAlone) {
  ScriptedLookup dns;
  dns.zone[{"h.example.org", RecordType::txt}] = DnsAnswer::with({"v=spf1 a -all"});
  dns.zone[{"h.example.org", RecordType::a}] = DnsAnswer::with({"192.0.2.9"});
  SpfRequest request = make_request("192.0.2.9", "h.example.org", "x@elsewhere.example");
  request.identity = SpfIdentity::helo;
  SpfOutcome outcome = run(check_spf(dns, request));
  EXPECT_EQ(outcome.result, SpfResult::pass);
  EXPECT_EQ(outcome.identity, SpfIdentity::helo);
  EXPECT_EQ(outcome.sender, "postmaster@h.example.org");
}

TEST_F(SpfCheckTest, TheWholeCheckHasADeadline) {  // RFC 7208 §4.6.4
  ScriptedLookup dns;  // 5 ms per answer; a chain of includes takes one step each
  for (int i = 0; i < 8; ++i)
    dns.zone[{"d" + std::to_string(i) + ".example", RecordType::txt}] =
        DnsAnswer::with({"v=spf1 include:d" + std::to_string(i + 1) + ".example -all"});
  SpfRequest request = make_request("192.0.2.1", "h.example", "a@d0.example");
  request.deadline = 12ms;
  SpfOutcome outcome = run(check_spf(dns, request));
  EXPECT_EQ(outcome.result, SpfResult::temperror);
  EXPECT_NE(outcome.problem.find("longer than"), std::string::npos) << outcome.problem;
  EXPECT_LT(dns.asked, 8);
}

TEST_F(SpfCheckTest, AnUnusableClientAddressIsNone) {
  ScriptedLookup dns;
  SpfOutcome outcome = run(check_spf(dns, make_request("not-an-ip", "h", "a@b.c")));
  EXPECT_EQ(outcome.result, SpfResult::none);
  EXPECT_FALSE(outcome.problem.empty());
  EXPECT_EQ(dns.asked, 0);
}

TEST_F(SpfCheckTest, OverTheRealResolver) {
  ResolverRecordLookup lookup(resolver(), std::make_shared<DnsCache>());
  SpfRequest request = make_request("192.0.2.77", "mx.spf.test", "u@spf.test");
  EXPECT_EQ(run(check_spf(lookup, request)).result, SpfResult::pass);
  request.client_ip = "198.51.100.1";
  EXPECT_EQ(run(check_spf(lookup, request)).result, SpfResult::fail);
  request.mail_from = "u@broken.test";
  EXPECT_EQ(run(check_spf(lookup, request)).result, SpfResult::temperror);
  request.mail_from = "u@silent.test";
  EXPECT_EQ(run(check_spf(lookup, request)).result, SpfResult::temperror);
  request.mail_from = "u@nothing.spf.test";
  EXPECT_EQ(run(check_spf(lookup, request)).result, SpfResult::none);
}

}  // namespace
}  // namespace postamt::mailauth
