// DMARC evaluation end to end over a scripted zone: alignment, sp/np, the RFC 9989 tree
// walk and psd=, multiple records, DNS failures, the RFC 7489 mode with the real Public
// Suffix List, pct and t=, and the From-header attacks.
#include <gtest/gtest.h>

#include "dmarc_scripted_zone.hpp"
#include "mailauth/dmarc_check.hpp"
#include "mailauth/domain_a_labels.hpp"
#include "mailauth/public_suffix_list.hpp"

namespace postamt::mailauth {
namespace {

using testing::ScriptedZone;
using testing::run_coroutine;

DmarcInput from(std::string domain) {
  DmarcInput input;
  input.author = {FromStatus::ok, std::move(domain)};
  return input;
}
DmarcInput with_spf(DmarcInput input, std::string domain) {
  input.spf_pass = true;
  input.spf_domain = std::move(domain);
  return input;
}
DmarcInput with_dkim(DmarcInput input, std::string domain, bool pass = true) {
  input.dkim.push_back({std::move(domain), pass});
  return input;
}

DmarcOutcome check(ScriptedZone& zone, const DmarcInput& input) { return run_coroutine(check_dmarc(zone, input)); }

TEST(DmarcCheck, NoRecordIsNone) {
  ScriptedZone zone;
  const auto out = check(zone, with_spf(from("example.com"), "example.com"));
  EXPECT_EQ(out.result, DmarcResult::none);
  EXPECT_EQ(out.policy, DmarcPolicy::none);
  EXPECT_TRUE(out.policy_domain.empty());
  EXPECT_EQ(zone.dmarc_names(), (std::vector<std::string>{"example.com", "com"}));
}

TEST(DmarcCheck, SpfAlignmentStrictAndRelaxed) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject; aspf=s");
  zone.dmarc("relaxed.example", "v=DMARC1; p=reject");
  auto exact = check(zone, with_spf(from("example.com"), "Example.COM."));
  EXPECT_EQ(exact.result, DmarcResult::pass);
  EXPECT_TRUE(exact.spf_aligned);
  EXPECT_FALSE(exact.dkim_aligned);
  EXPECT_EQ(exact.policy, DmarcPolicy::none);
  EXPECT_EQ(exact.organisational_domain, "example.com");

  auto strict_sub = check(zone, with_spf(from("example.com"), "bounce.example.com"));
  EXPECT_EQ(strict_sub.result, DmarcResult::fail);
  EXPECT_EQ(strict_sub.requested_policy, DmarcPolicy::reject);
  EXPECT_EQ(strict_sub.policy, DmarcPolicy::reject);

  auto relaxed_sub = check(zone, with_spf(from("relaxed.example"), "bounce.relaxed.example"));
  EXPECT_EQ(relaxed_sub.result, DmarcResult::pass);
  EXPECT_TRUE(relaxed_sub.spf_aligned);

  auto other = check(zone, with_spf(from("relaxed.example"), "relaxed.example.net"));
  EXPECT_EQ(other.result, DmarcResult::fail);

  DmarcInput failed_spf = from("example.com");
  failed_spf.spf_domain = "example.com";  // spf_pass stays false
  EXPECT_EQ(check(zone, failed_spf).result, DmarcResult::fail);
}

TEST(DmarcCheck, DkimAlignmentStrictAndRelaxed) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=quarantine; adkim=s");
  zone.dmarc("example.org", "v=DMARC1; p=quarantine");
  auto strict_ok = check(zone, with_dkim(with_dkim(from("example.com"), "other.example"), "example.com"));
  EXPECT_EQ(strict_ok.result, DmarcResult::pass);
  EXPECT_TRUE(strict_ok.dkim_aligned);
  EXPECT_EQ(strict_ok.dkim_aligned_domain, "example.com");

  auto strict_sub = check(zone, with_dkim(from("example.com"), "mail.example.com"));
  EXPECT_EQ(strict_sub.result, DmarcResult::fail);
  EXPECT_EQ(strict_sub.policy, DmarcPolicy::quarantine);

  auto relaxed_sub = check(zone, with_dkim(from("news.example.org"), "mail.example.org"));
  EXPECT_EQ(relaxed_sub.result, DmarcResult::pass);
  EXPECT_EQ(relaxed_sub.dkim_aligned_domain, "mail.example.org");
  EXPECT_EQ(relaxed_sub.policy_domain, "example.org");
  EXPECT_EQ(relaxed_sub.organisational_domain, "example.org");

  auto relaxed_parent = check(zone, with_dkim(from("news.example.org"), "example.org"));
  EXPECT_EQ(relaxed_parent.result, DmarcResult::pass);

  auto failing_signature = check(zone, with_dkim(from("example.com"), "example.com", false));
  EXPECT_EQ(failing_signature.result, DmarcResult::fail);
  EXPECT_FALSE(failing_signature.dkim_aligned);
}

TEST(DmarcCheck, SubdomainPolicy) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject; sp=quarantine");
  zone.a("news.example.com");
  auto sub = check(zone, with_spf(from("news.example.com"), "attacker.example"));
  EXPECT_EQ(sub.result, DmarcResult::fail);
  EXPECT_EQ(sub.policy_domain, "example.com");
  EXPECT_EQ(sub.requested_policy, DmarcPolicy::quarantine);
  EXPECT_EQ(sub.policy, DmarcPolicy::quarantine);
  auto top = check(zone, from("example.com"));
  EXPECT_EQ(top.requested_policy, DmarcPolicy::reject);
  // Without np= no existence check is made.
  for (const auto& q : zone.asked) EXPECT_EQ(q.type, RecordType::txt);
}

TEST(DmarcCheck, NonexistentSubdomainPolicy) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject; sp=none; np=quarantine");
  zone.a("www.example.com");
  zone.answer("mx-only.example.com", RecordType::mx, DnsAnswer::with({"mx.example.com"}));
  auto ghost = check(zone, from("ghost.example.com"));
  EXPECT_EQ(ghost.result, DmarcResult::fail);
  EXPECT_TRUE(ghost.from_domain_nonexistent);
  EXPECT_EQ(ghost.policy, DmarcPolicy::quarantine);
  auto www = check(zone, from("www.example.com"));
  EXPECT_FALSE(www.from_domain_nonexistent);
  EXPECT_EQ(www.policy, DmarcPolicy::none);
  EXPECT_EQ(check(zone, from("mx-only.example.com")).policy, DmarcPolicy::none);
  // NODATA for every type is non-existent too.
  zone.answer("empty.example.com", RecordType::a, DnsAnswer::with({}));
  EXPECT_TRUE(check(zone, from("empty.example.com")).from_domain_nonexistent);
  // The A/AAAA/MX questions of the existence check go out together.
  ScriptedZone fresh;
  fresh.dmarc("example.com", "v=DMARC1; p=reject; np=reject");
  check(fresh, from("ghost.example.com"));
  EXPECT_GE(fresh.max_in_flight, 3);
}

TEST(DmarcCheck, NpFallsBackToSpThenP) {
  ScriptedZone zone;
  zone.dmarc("sp.example", "v=DMARC1; p=reject; sp=quarantine");
  zone.dmarc("p.example", "v=DMARC1; p=reject");
  EXPECT_EQ(check(zone, from("ghost.sp.example")).policy, DmarcPolicy::quarantine);
  EXPECT_EQ(check(zone, from("ghost.p.example")).policy, DmarcPolicy::reject);
}

TEST(DmarcCheck, TreeWalkFromADeepNameSkipsToSevenLabels) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject");
  const auto out = check(zone, from("a.b.c.d.e.f.g.h.example.com"));
  EXPECT_EQ(out.policy_domain, "example.com");
  EXPECT_EQ(out.requested_policy, DmarcPolicy::reject);  // sp absent: p
  const std::vector<std::string> walk = {"a.b.c.d.e.f.g.h.example.com", "d.e.f.g.h.example.com",
                                         "e.f.g.h.example.com", "f.g.h.example.com", "g.h.example.com",
                                         "h.example.com", "example.com", "com"};
  // The policy walk stops at example.com; the organisational walk goes on to com.
  EXPECT_EQ(zone.dmarc_names(), walk);
  EXPECT_EQ(out.organisational_domain, "example.com");
}

TEST(DmarcCheck, TreeWalkStopsAfterEightQueries) {
  ScriptedZone zone;
  const auto out = check(zone, from("l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.test"));
  EXPECT_EQ(out.result, DmarcResult::none);
  EXPECT_EQ(zone.dmarc_names().size(), 8u);
  EXPECT_EQ(zone.dmarc_names()[1], "l7.l8.l9.l10.l11.l12.test");  // the rightmost 7 labels
  EXPECT_EQ(zone.dmarc_names().back(), "test");
}

TEST(DmarcCheck, PolicyAtAnIntermediateLabel) {
  ScriptedZone zone;
  zone.dmarc("dept.example.com", "v=DMARC1; p=quarantine; sp=none");
  zone.dmarc("example.com", "v=DMARC1; p=reject");
  zone.a("x.dept.example.com");
  const auto out = check(zone, with_dkim(from("x.dept.example.com"), "example.com"));
  EXPECT_EQ(out.policy_domain, "dept.example.com");
  EXPECT_EQ(out.organisational_domain, "example.com");  // the record with the fewest labels
  EXPECT_EQ(out.result, DmarcResult::pass);             // relaxed: same organisational domain
  const auto fail = check(zone, from("x.dept.example.com"));
  EXPECT_EQ(fail.requested_policy, DmarcPolicy::none);  // dept's sp=
}

TEST(DmarcCheck, PsdYesMakesTheChildTheOrganisationalDomain) {
  ScriptedZone zone;
  zone.dmarc("bank.example", "v=DMARC1; p=reject; psd=y");
  const auto out = check(zone, with_dkim(from("x.giant.bank.example"), "other.bank.example"));
  EXPECT_EQ(out.organisational_domain, "giant.bank.example");
  EXPECT_EQ(out.policy_domain, "bank.example");
  EXPECT_EQ(out.result, DmarcResult::fail);  // other.bank.example is another organisation
  EXPECT_EQ(check(zone, with_dkim(from("x.giant.bank.example"), "mail.giant.bank.example")).result,
            DmarcResult::pass);
  // The same without psd=y: bank.example is the organisational domain and they align.
  ScriptedZone plain;
  plain.dmarc("bank.example", "v=DMARC1; p=reject");
  EXPECT_EQ(check(plain, with_dkim(from("x.giant.bank.example"), "other.bank.example")).result,
            DmarcResult::pass);
}

TEST(DmarcCheck, PsdNoStopsTheWalk) {
  ScriptedZone zone;
  zone.dmarc("mail.example.com", "v=DMARC1; p=reject; psd=n");
  zone.dmarc("example.com", "v=DMARC1; p=none");
  const auto out = check(zone, with_spf(from("a.mail.example.com"), "b.mail.example.com"));
  EXPECT_EQ(out.organisational_domain, "mail.example.com");
  EXPECT_EQ(out.result, DmarcResult::pass);
  EXPECT_EQ(check(zone, with_spf(from("a.mail.example.com"), "other.example.com")).result, DmarcResult::fail);
}

TEST(DmarcCheck, MultipleRecords) {
  ScriptedZone zone;
  zone.txt("_dmarc.example.com", {"v=DMARC1; p=reject", "v=DMARC1; p=none"});
  zone.dmarc("example.co", "v=DMARC1; p=reject");
  zone.txt("_dmarc.sub.example.co", {"v=DMARC1; p=none", "v=DMARC1; p=quarantine", "unrelated text"});
  EXPECT_EQ(check(zone, from("example.com")).result, DmarcResult::none);
  // RFC 9989: the name with several records counts as having none; the walk goes on.
  const auto walked = check(zone, from("sub.example.co"));
  EXPECT_EQ(walked.policy_domain, "example.co");
  // RFC 7489: several records end policy discovery.
  DmarcInput old = from("sub.example.co");
  old.mode = DmarcMode::rfc7489;
  EXPECT_EQ(check(zone, old).result, DmarcResult::none);
  // Other TXT records beside one DMARC record do not count.
  ScriptedZone mixed;
  mixed.txt("_dmarc.example.com", {"google-site-verification=x", "v=DMARC1; p=reject"});
  EXPECT_EQ(check(mixed, from("example.com")).requested_policy, DmarcPolicy::reject);
}

TEST(DmarcCheck, InvalidRecordEndsPolicyDiscovery) {
  ScriptedZone zone;
  zone.dmarc("sub.example.com", "v=DMARC1; p=bogus");
  zone.dmarc("example.com", "v=DMARC1; p=quarantine");
  const auto out = check(zone, from("sub.example.com"));
  EXPECT_EQ(out.result, DmarcResult::none);  // RFC 9989 §4.10.1: no DMARC processing
  EXPECT_TRUE(out.policy_domain.empty());
  EXPECT_EQ(out.reason, "invalid DMARC record at sub.example.com");
  EXPECT_EQ(zone.dmarc_names(), (std::vector<std::string>{"sub.example.com"}));
  // An invalid p= with a usable rua= is p=none: processed.
  ScriptedZone with_rua;
  with_rua.dmarc("example.com", "v=DMARC1; p=bogus; rua=mailto:d@example.com");
  const auto none_policy = check(with_rua, from("example.com"));
  EXPECT_EQ(none_policy.result, DmarcResult::fail);
  EXPECT_EQ(none_policy.policy, DmarcPolicy::none);
  // The organisational walk passes over an invalid record.
  ScriptedZone org;
  org.dmarc("a.example.com", "v=DMARC1; p=reject; aspf=r");
  org.dmarc("example.com", "v=DMARC1; p=reject; p=none");  // a tag twice: invalid
  EXPECT_EQ(check(org, with_spf(from("a.example.com"), "b.example.com")).organisational_domain, "a.example.com");
}

TEST(DmarcCheck, PsdYesWhereTheWalkStartsStopsIt) {
  ScriptedZone zone;
  zone.dmarc("registry.example", "v=DMARC1; p=reject; psd=y");
  zone.dmarc("example", "v=DMARC1; p=none");
  const auto out = check(zone, from("registry.example"));
  EXPECT_EQ(out.organisational_domain, "registry.example");
  EXPECT_EQ(zone.dmarc_names(), (std::vector<std::string>{"registry.example"}));
}

TEST(DmarcCheck, DnsFailureIsTemperror) {
  ScriptedZone zone;
  zone.answer("_dmarc.example.com", RecordType::txt, DnsAnswer{true, Rcode::server_failure, {}, false, 0});
  zone.answer("_dmarc.timeout.example", RecordType::txt, DnsAnswer::timed_out());
  EXPECT_EQ(check(zone, from("example.com")).result, DmarcResult::temperror);
  EXPECT_EQ(check(zone, from("timeout.example")).result, DmarcResult::temperror);
  // A failure further up the walk, before any record: temperror too.
  EXPECT_EQ(check(zone, from("sub.example.com")).result, DmarcResult::temperror);

  // The organisational walk failing with nothing aligned: temperror; with an exact match: pass.
  ScriptedZone org;
  org.dmarc("example.net", "v=DMARC1; p=reject");
  org.answer("_dmarc.net", RecordType::txt, DnsAnswer::timed_out());
  EXPECT_EQ(check(org, with_spf(from("example.net"), "bounce.example.net")).result, DmarcResult::temperror);
  EXPECT_EQ(check(org, with_spf(from("example.net"), "example.net")).result, DmarcResult::pass);

  // The existence check for np= failing.
  ScriptedZone np;
  np.dmarc("example.org", "v=DMARC1; p=reject; np=reject");
  np.answer("ghost.example.org", RecordType::aaaa, DnsAnswer{true, Rcode::refused, {}, false, 0});
  EXPECT_EQ(check(np, from("ghost.example.org")).result, DmarcResult::temperror);
}

TEST(DmarcCheck, Rfc7489ModeUsesThePublicSuffixList) {
  auto psl = PublicSuffixList::load();
  ASSERT_TRUE(psl) << psl.error().message;
  ScriptedZone zone;
  zone.dmarc("example.co.uk", "v=DMARC1; p=reject; sp=quarantine");
  zone.dmarc("co.uk", "v=DMARC1; p=none");  // never asked in RFC 7489 mode
  DmarcInput input = with_spf(from("mail.example.co.uk"), "bounce.example.co.uk");
  input.mode = DmarcMode::rfc7489;
  input.public_suffixes = &*psl;
  const auto out = check(zone, input);
  EXPECT_EQ(out.result, DmarcResult::pass);
  EXPECT_EQ(out.policy_domain, "example.co.uk");
  EXPECT_EQ(out.organisational_domain, "example.co.uk");
  EXPECT_EQ(zone.dmarc_names(), (std::vector<std::string>{"mail.example.co.uk", "example.co.uk"}));

  DmarcInput foreign = with_spf(from("mail.example.co.uk"), "other.co.uk");
  foreign.mode = DmarcMode::rfc7489;
  foreign.public_suffixes = &*psl;
  const auto failed = check(zone, foreign);
  EXPECT_EQ(failed.result, DmarcResult::fail);
  EXPECT_EQ(failed.requested_policy, DmarcPolicy::quarantine);
}

TEST(DmarcCheck, PctSamplingInRfc7489Mode) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject; pct=50");
  DmarcInput input = from("example.com");
  input.mode = DmarcMode::rfc7489;
  input.random_percent = 49;
  auto applied = check(zone, input);
  EXPECT_EQ(applied.policy, DmarcPolicy::reject);
  EXPECT_FALSE(applied.sampled_out);
  input.random_percent = 50;
  auto sampled = check(zone, input);
  EXPECT_EQ(sampled.requested_policy, DmarcPolicy::reject);
  EXPECT_EQ(sampled.policy, DmarcPolicy::quarantine);
  EXPECT_TRUE(sampled.sampled_out);
  // RFC 9989 has no pct=.
  input.mode = DmarcMode::rfc9989;
  input.random_percent = 99;
  EXPECT_EQ(check(zone, input).policy, DmarcPolicy::reject);
  // pct=0 quarantine → none.
  ScriptedZone zero;
  zero.dmarc("example.com", "v=DMARC1; p=quarantine; pct=0");
  input.mode = DmarcMode::rfc7489;
  input.random_percent = 0;
  EXPECT_EQ(check(zero, input).policy, DmarcPolicy::none);
}

TEST(DmarcCheck, TestingFlagLowersThePolicyInRfc9989Mode) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject; t=y");
  auto out = check(zone, from("example.com"));
  EXPECT_EQ(out.requested_policy, DmarcPolicy::reject);
  EXPECT_EQ(out.policy, DmarcPolicy::quarantine);
  EXPECT_TRUE(out.sampled_out);
}

TEST(DmarcCheck, FromHeaderAttacksFailWithoutDns) {
  for (const char* head : {"From: a@bank.example\r\nFrom: b@evil.example\r\n\r\n",
                           "From: a@bank.example, b@evil.example\r\n\r\n", "Subject: no from\r\n\r\n",
                           "From: alice\r\n\r\n", "From: a@bank.example <b@evil.example>\r\n\r\n"}) {
    ScriptedZone zone;
    DmarcInput input;
    input.author = classify_from_header_block(head);
    input.spf_pass = true;
    input.spf_domain = "evil.example";
    const auto out = check(zone, input);
    EXPECT_EQ(out.result, DmarcResult::fail) << head;
    EXPECT_EQ(out.policy, DmarcPolicy::reject) << head;
    EXPECT_NE(out.from_status, FromStatus::ok) << head;
    EXPECT_FALSE(out.reason.empty());
    EXPECT_TRUE(zone.asked.empty());
  }
  ScriptedZone zone;
  DmarcInput configured;
  configured.author = classify_from_header_block("From: a@x.example\r\nFrom: b@y.example\r\n\r\n");
  configured.from_failure = {DmarcResult::permerror, DmarcPolicy::quarantine};
  const auto out = check(zone, configured);
  EXPECT_EQ(out.result, DmarcResult::permerror);
  EXPECT_EQ(out.policy, DmarcPolicy::quarantine);
  EXPECT_EQ(out.from_status, FromStatus::several_from_fields);
}

TEST(DmarcCheck, IdentifierWalksRunConcurrentlyAndAreBounded) {
  ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=reject");
  DmarcInput input = with_spf(from("example.com"), "a.bounce.example.com");
  input = with_dkim(input, "b.mail.example.com");
  const auto out = check(zone, input);
  EXPECT_EQ(out.result, DmarcResult::pass);
  EXPECT_TRUE(out.spf_aligned);
  EXPECT_TRUE(out.dkim_aligned);
  EXPECT_GE(zone.max_in_flight, 2);
  // Many signing domains outside the From domain's organisation cost no walk at all.
  ScriptedZone many;
  many.dmarc("example.com", "v=DMARC1; p=reject");
  DmarcInput flood = from("example.com");
  for (int i = 0; i < 50; ++i) flood = with_dkim(flood, "d" + std::to_string(i) + ".attacker.example");
  EXPECT_EQ(check(many, flood).result, DmarcResult::fail);
  EXPECT_LE(many.asked.size(), 2u);
}

TEST(PublicSuffixList, OrganisationalDomains) {
  auto psl = PublicSuffixList::load();
  ASSERT_TRUE(psl) << psl.error().message;
  EXPECT_EQ(psl->organisational_domain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl->organisational_domain("example.com"), "example.com");
  EXPECT_EQ(psl->organisational_domain("mail.example.com."), "example.com");
  EXPECT_EQ(psl->organisational_domain("co.uk"), "co.uk");
  EXPECT_EQ(psl->organisational_domain("com"), "com");
  EXPECT_FALSE(PublicSuffixList::load("/nonexistent/list.dat"));
}

}  // namespace
}  // namespace postamt::mailauth

namespace postamt::mailauth {
namespace {

// A lookup that fails by throwing: the answer counts as unanswered, so DMARC says temperror.
class ThrowingLookup : public RecordLookup {
 public:
  asio::awaitable<DnsAnswer> lookup(DnsQuestion) override {
    throw std::runtime_error("resolver gone");
    co_return DnsAnswer{};
  }
};

TEST(DmarcCheck, ThrowingLookupIsTemperror) {
  ThrowingLookup lookup;
  DmarcInput input;
  input.author = {FromStatus::ok, "example.com"};
  const auto out = testing::run_coroutine(check_dmarc(lookup, input));
  EXPECT_EQ(out.result, DmarcResult::temperror);
}

}  // namespace
}  // namespace postamt::mailauth

namespace postamt::mailauth {
namespace {

TEST(DomainALabels, Conversion) {
  EXPECT_EQ(to_a_labels("Mail.Example.COM"), "mail.example.com");
  EXPECT_EQ(to_a_labels("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(to_a_labels("BÜCHER.example"), "xn--bcher-kva.example");  // UTS #46 maps case
  EXPECT_FALSE(to_a_labels("bad\xff\xfe.example"));
}

TEST(DmarcCheck, Utf8FromDomainIsLookedUpAsALabels) {
  testing::ScriptedZone zone;
  zone.dmarc("xn--bcher-kva.example", "v=DMARC1; p=reject");
  DmarcInput input;
  input.author = classify_from_value(" Jörg <j@bücher.example>");
  ASSERT_TRUE(input.author.ok());
  const auto spoofed = testing::run_coroutine(check_dmarc(zone, input));
  EXPECT_EQ(spoofed.result, DmarcResult::fail);
  EXPECT_EQ(spoofed.policy, DmarcPolicy::reject);
  EXPECT_EQ(spoofed.from_domain, "xn--bcher-kva.example");
  input.dkim.push_back({"xn--bcher-kva.example", true});
  EXPECT_EQ(testing::run_coroutine(check_dmarc(zone, input)).result, DmarcResult::pass);
  input.dkim = {{"bücher.example", true}};  // a U-label d= aligns as well
  EXPECT_EQ(testing::run_coroutine(check_dmarc(zone, input)).result, DmarcResult::pass);
  input.author = {FromStatus::ok, "bad\xff.example"};
  const auto invalid = testing::run_coroutine(check_dmarc(zone, input));
  EXPECT_EQ(invalid.from_status, FromStatus::no_domain);
  EXPECT_EQ(invalid.policy, DmarcPolicy::reject);
}

}  // namespace
}  // namespace postamt::mailauth
