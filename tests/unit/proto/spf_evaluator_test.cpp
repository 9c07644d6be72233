// check_host() as a stepper over scripted DNS answers: the questions asked per step, the
// limits, include/redirect interplay, exp=, the HELO identity.
#include "proto/mailauth/spf_evaluator.hpp"

#include <gmock/gmock.h>

#include <map>

namespace postamt::mailauth {
namespace {

using ::testing::UnorderedElementsAre;

struct Zone {
  std::map<std::pair<std::string, RecordType>, DnsAnswer> answers;
  std::vector<std::vector<DnsQuestion>> steps;  // what the evaluator asked, step by step

  void txt(const std::string& name, std::vector<std::string> records) {
    answers[{name, RecordType::txt}] = DnsAnswer::with(std::move(records));
  }
  void a(const std::string& name, std::vector<std::string> records) {
    answers[{name, RecordType::a}] = DnsAnswer::with(std::move(records));
  }
  void set(const std::string& name, RecordType type, DnsAnswer answer) { answers[{name, type}] = std::move(answer); }

  SpfVerdict check(const std::string& ip, const std::string& mail_from, const std::string& helo = "helo.example",
                   SpfIdentity identity = SpfIdentity::mail_from) {
    SpfInputs inputs;
    inputs.ip = *IpAddress::parse(ip);
    inputs.mail_from = mail_from;
    inputs.helo = helo;
    inputs.identity = identity;
    inputs.receiver = "receiver.example";
    SpfEvaluator evaluator(inputs);
    steps.clear();
    while (!evaluator.done()) {
      steps.push_back(evaluator.questions());
      std::vector<DnsAnswer> out;
      for (const DnsQuestion& q : evaluator.questions()) {
        auto found = answers.find({q.name, q.type});
        out.push_back(found == answers.end() ? DnsAnswer::nx_domain() : found->second);
      }
      evaluator.provide(out);
      if (steps.size() > 100) ADD_FAILURE() << "no end";
    }
    return evaluator.verdict();
  }
};

DnsAnswer servfail() {
  DnsAnswer answer;
  answer.answered = true;
  answer.rcode = Rcode::server_failure;
  return answer;
}

TEST(SpfEvaluator, PassFailSoftfailNeutralByQualifier) {
  Zone zone;
  zone.txt("example.org", {"v=spf1 ip4:192.0.2.1 -ip4:192.0.2.2 ~ip4:192.0.2.3 ?ip4:192.0.2.4"});
  EXPECT_EQ(zone.check("192.0.2.1", "a@example.org").result, SpfResult::pass);
  EXPECT_EQ(zone.check("192.0.2.2", "a@example.org").result, SpfResult::fail);
  EXPECT_EQ(zone.check("192.0.2.3", "a@example.org").result, SpfResult::softfail);
  EXPECT_EQ(zone.check("192.0.2.4", "a@example.org").result, SpfResult::neutral);
  SpfVerdict none_matched = zone.check("192.0.2.5", "a@example.org");
  EXPECT_EQ(none_matched.result, SpfResult::neutral);  // §4.7
  EXPECT_EQ(none_matched.mechanism, "default");
}

TEST(SpfEvaluator, NoneForNoRecordNoDomainOrABadDomain) {  // §4.3, §4.5
  Zone zone;
  zone.txt("text.example", {"hello"});
  EXPECT_EQ(zone.check("192.0.2.1", "a@text.example").result, SpfResult::none);
  EXPECT_EQ(zone.check("192.0.2.1", "a@nowhere.example").result, SpfResult::none);
  Zone quiet;
  EXPECT_EQ(quiet.check("192.0.2.1", "a@[192.0.2.1]").result, SpfResult::none);
  EXPECT_EQ(quiet.check("192.0.2.1", "a@single").result, SpfResult::none);
  EXPECT_EQ(quiet.check("192.0.2.1", "a@a..example.com").result, SpfResult::none);
  EXPECT_TRUE(quiet.steps.empty());  // nothing asked
}

TEST(SpfEvaluator, MultipleRecordsAndSyntaxErrorsArePermerror) {
  Zone zone;
  zone.txt("two.example", {"v=spf1 -all", "v=spf1 +all"});
  zone.txt("bad.example", {"v=spf1 ip4:192.0.2.1 -all moo"});
  EXPECT_EQ(zone.check("192.0.2.1", "a@two.example").result, SpfResult::permerror);
  SpfVerdict bad = zone.check("192.0.2.1", "a@bad.example");
  EXPECT_EQ(bad.result, SpfResult::permerror);  // even though ip4 would have matched first
  EXPECT_NE(bad.problem.find("moo"), std::string::npos);
}

TEST(SpfEvaluator, DnsFailuresAreTemperror) {
  Zone zone;
  zone.set("broken.example", RecordType::txt, servfail());
  zone.set("slow.example", RecordType::txt, DnsAnswer::timed_out());
  zone.txt("a.example", {"v=spf1 a:broken.example -all"});
  zone.set("broken.example", RecordType::a, servfail());
  EXPECT_EQ(zone.check("192.0.2.1", "x@broken.example").result, SpfResult::temperror);
  EXPECT_EQ(zone.check("192.0.2.1", "x@slow.example").result, SpfResult::temperror);
  EXPECT_EQ(zone.check("192.0.2.1", "x@a.example").result, SpfResult::temperror);
}

TEST(SpfEvaluator, MxAddressesAreAskedInOneStep) {
  Zone zone;
  zone.txt("example.org", {"v=spf1 mx/24 -all"});
  zone.set("example.org", RecordType::mx, DnsAnswer::with({"mx1.example.org", "mx2.example.org"}));
  zone.a("mx1.example.org", {"198.51.100.1"});
  zone.a("mx2.example.org", {"192.0.2.200"});
  EXPECT_EQ(zone.check("192.0.2.7", "a@example.org").result, SpfResult::pass);
  ASSERT_EQ(zone.steps.size(), 3u);
  EXPECT_THAT(zone.steps[2], UnorderedElementsAre(DnsQuestion{"mx1.example.org", RecordType::a},
                                                  DnsQuestion{"mx2.example.org", RecordType::a}));
}

TEST(SpfEvaluator, MoreThanTenMxNamesIsPermerror) {  // §4.6.4
  Zone zone;
  zone.txt("example.org", {"v=spf1 mx -all"});
  std::vector<std::string> hosts;
  for (int i = 0; i < 11; ++i) hosts.push_back("mx" + std::to_string(i) + ".example.org");
  zone.set("example.org", RecordType::mx, DnsAnswer::with(hosts));
  EXPECT_EQ(zone.check("192.0.2.7", "a@example.org").result, SpfResult::permerror);
}

TEST(SpfEvaluator, TenDnsTermsAreFineElevenArePermerror) {  // §4.6.4
  Zone zone;
  std::string ten = "v=spf1";
  for (int i = 0; i < 10; ++i) ten += " a:h" + std::to_string(i) + ".example.org";
  zone.txt("ten.example", {ten + " ip4:192.0.2.1"});
  zone.txt("eleven.example", {ten + " a:h10.example.org ip4:192.0.2.1"});
  for (int i = 0; i < 11; ++i) zone.a("h" + std::to_string(i) + ".example.org", {"198.51.100.1"});
  SpfVerdict ten_terms = zone.check("192.0.2.1", "a@ten.example");
  EXPECT_EQ(ten_terms.result, SpfResult::pass);
  EXPECT_EQ(ten_terms.dns_terms, 10u);
  EXPECT_EQ(zone.check("192.0.2.1", "a@eleven.example").result, SpfResult::permerror);
}

TEST(SpfEvaluator, TwoVoidLookupsAreFineThreeArePermerror) {  // §4.6.4
  Zone zone;
  zone.txt("two.example", {"v=spf1 a:gone1.example a:gone2.example ?all"});
  zone.txt("three.example", {"v=spf1 a:gone1.example a:gone2.example a:gone3.example ?all"});
  SpfVerdict two = zone.check("192.0.2.1", "a@two.example");
  EXPECT_EQ(two.result, SpfResult::neutral);
  EXPECT_EQ(two.void_lookups, 2u);
  EXPECT_EQ(zone.check("192.0.2.1", "a@three.example").result, SpfResult::permerror);
}

TEST(SpfEvaluator, IncludeResultsMapAsTheRfcTableSays) {  // §5.2
  Zone zone;
  zone.txt("pass.example", {"v=spf1 +all"});
  zone.txt("fail.example", {"v=spf1 -all"});
  zone.txt("perm.example", {"v=spf1 bogus"});
  zone.set("temp.example", RecordType::txt, servfail());
  zone.txt("none.example", {"no spf here"});
  for (const char* target : {"pass", "fail", "perm", "temp", "none"})
    zone.txt(std::string("inc-") + target + ".example", {std::string("v=spf1 -include:") + target + ".example ~all"});
  EXPECT_EQ(zone.check("192.0.2.1", "a@inc-pass.example").result, SpfResult::fail);      // matched: "-"
  EXPECT_EQ(zone.check("192.0.2.1", "a@inc-fail.example").result, SpfResult::softfail);  // no match
  EXPECT_EQ(zone.check("192.0.2.1", "a@inc-perm.example").result, SpfResult::permerror);
  EXPECT_EQ(zone.check("192.0.2.1", "a@inc-temp.example").result, SpfResult::temperror);
  EXPECT_EQ(zone.check("192.0.2.1", "a@inc-none.example").result, SpfResult::permerror);
}

TEST(SpfEvaluator, RedirectOnlyWithoutAllAndToARecord) {  // §6.1
  Zone zone;
  zone.txt("r.example", {"v=spf1 ip4:198.51.100.1 redirect=target.example"});
  zone.txt("target.example", {"v=spf1 a -all"});
  zone.a("target.example", {"192.0.2.1"});  // "a" means the target's own name
  zone.a("r.example", {"192.0.2.2"});
  zone.txt("with-all.example", {"v=spf1 redirect=nowhere.example ~all"});
  zone.txt("to-none.example", {"v=spf1 redirect=nowhere.example"});
  zone.txt("loop.example", {"v=spf1 redirect=loop.example"});
  EXPECT_EQ(zone.check("192.0.2.1", "a@r.example").result, SpfResult::pass);
  EXPECT_EQ(zone.check("192.0.2.2", "a@r.example").result, SpfResult::fail);
  EXPECT_EQ(zone.check("192.0.2.1", "a@with-all.example").result, SpfResult::softfail);
  EXPECT_EQ(zone.check("192.0.2.1", "a@to-none.example").result, SpfResult::permerror);
  EXPECT_EQ(zone.check("192.0.2.1", "a@loop.example").result, SpfResult::permerror);  // the 11th term
}

TEST(SpfEvaluator, ExplanationComesFromTheDecidingRecordOnly) {  // §6.2
  Zone zone;
  zone.txt("outer.example", {"v=spf1 exp=no.example redirect=inner.example"});
  zone.txt("inner.example", {"v=spf1 -all exp=yes.example"});
  zone.txt("no.example", {"wrong"});
  zone.txt("yes.example", {"%{d} says no to %{i} for %{l}"});
  SpfVerdict verdict = zone.check("192.0.2.1", "bob@outer.example");
  EXPECT_EQ(verdict.result, SpfResult::fail);
  EXPECT_TRUE(verdict.explanation_from_record);
  EXPECT_EQ(verdict.explanation, "inner.example says no to 192.0.2.1 for bob");

  zone.txt("bad-exp.example", {"v=spf1 -all exp=twice.example"});
  zone.txt("twice.example", {"one", "two"});
  SpfVerdict fallback = zone.check("192.0.2.1", "bob@bad-exp.example");
  EXPECT_EQ(fallback.result, SpfResult::fail);
  EXPECT_FALSE(fallback.explanation_from_record);
  EXPECT_EQ(fallback.explanation, SpfEvaluator::default_explanation("bad-exp.example", *IpAddress::parse("192.0.2.1")));
}

TEST(SpfEvaluator, EmptyLocalPartIsPostmasterAndHeloIdentityUsesTheHeloName) {  // §4.3, §2.3
  Zone zone;
  zone.txt("example.org", {"v=spf1 exists:%{l}.users.example.org -all"});
  zone.a("postmaster.users.example.org", {"127.0.0.2"});
  SpfVerdict empty_local = zone.check("192.0.2.1", "@example.org");
  EXPECT_EQ(empty_local.result, SpfResult::pass);
  EXPECT_EQ(empty_local.sender, "postmaster@example.org");

  zone.txt("mx.example.org", {"v=spf1 a -all"});
  zone.a("mx.example.org", {"192.0.2.9"});
  SpfVerdict null_sender = zone.check("192.0.2.9", "", "mx.example.org");
  EXPECT_EQ(null_sender.result, SpfResult::pass);
  EXPECT_EQ(null_sender.identity, SpfIdentity::helo);
  EXPECT_EQ(null_sender.sender, "postmaster@mx.example.org");
  SpfVerdict helo = zone.check("192.0.2.8", "anyone@example.org", "mx.example.org", SpfIdentity::helo);
  EXPECT_EQ(helo.result, SpfResult::fail);
  EXPECT_EQ(helo.domain, "mx.example.org");
}

TEST(SpfEvaluator, PtrAndTheValidatedNameMacro) {  // §5.5, §7.3
  Zone zone;
  zone.set("1.2.0.192.in-addr.arpa", RecordType::ptr,
           DnsAnswer::with({"liar.example.org", "mail.example.org", "other.example.net"}));
  zone.a("liar.example.org", {"198.51.100.1"});
  zone.a("mail.example.org", {"192.0.2.1"});
  zone.a("other.example.net", {"192.0.2.1"});
  zone.txt("ptr.example.org", {"v=spf1 ptr:example.org -all"});
  zone.txt("liar.example.com", {"v=spf1 ptr:liar.example.org -all"});
  zone.txt("example.net", {"v=spf1 exists:%{p}.ok.example.com -all"});
  zone.txt("p.example.net", {"v=spf1 exists:%{p}.ok.example.com -all"});
  zone.a("other.example.net.ok.example.com", {"127.0.0.2"});
  EXPECT_EQ(zone.check("192.0.2.1", "a@ptr.example.org").result, SpfResult::pass);
  EXPECT_EQ(zone.check("192.0.2.1", "a@liar.example.com").result, SpfResult::fail);
  // p prefers a validated name at or below <domain> (example.net) over the first one ...
  EXPECT_EQ(zone.check("192.0.2.1", "a@example.net").result, SpfResult::pass);
  // ... and takes the first validated one when none is (mail.example.org.ok.example.com: NXDOMAIN)
  EXPECT_EQ(zone.check("192.0.2.1", "a@p.example.net").result, SpfResult::fail);
  // a PTR lookup error is no match, not temperror (§5.5)
  Zone failing;
  failing.txt("ptr.example.org", {"v=spf1 ptr ?all"});
  failing.set("1.2.0.192.in-addr.arpa", RecordType::ptr, servfail());
  EXPECT_EQ(failing.check("192.0.2.1", "a@ptr.example.org").result, SpfResult::neutral);
}

TEST(SpfEvaluator, Ipv6ClientsAskAaaaAndMappedAddressesAreIpv4) {
  Zone zone;
  zone.txt("example.org", {"v=spf1 a//64 -all"});
  zone.set("example.org", RecordType::aaaa, DnsAnswer::with({"2001:db8:1:2::5"}));
  EXPECT_EQ(zone.check("2001:db8:1:2::99", "a@example.org").result, SpfResult::pass);
  EXPECT_EQ(zone.steps.back().front(), (DnsQuestion{"example.org", RecordType::aaaa}));
  zone.txt("v4.example", {"v=spf1 ip4:192.0.2.0/24 -all"});
  EXPECT_EQ(zone.check("::ffff:192.0.2.7", "a@v4.example").result, SpfResult::pass);
}

TEST(SpfEvaluator, AnInvalidExpandedTargetMatchesNothingWithoutAQuestion) {
  Zone zone;
  zone.txt("example.org", {"v=spf1 a:%{H}.bar ~all"});
  SpfVerdict verdict = zone.check("192.0.2.1", "a@example.org", std::string(30, '%'));
  EXPECT_EQ(verdict.result, SpfResult::softfail);
  EXPECT_EQ(zone.steps.size(), 1u);  // only the record
}

}  // namespace
}  // namespace postamt::mailauth
