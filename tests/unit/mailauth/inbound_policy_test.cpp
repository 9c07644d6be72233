// What sender-authentication results lead to, per recipient domain and combined.
#include <gtest/gtest.h>

#include "mailauth/inbound_policy.hpp"

namespace postamt::mailauth {
namespace {

AuthSummary dmarc(DmarcVerdict verdict, DmarcPolicy policy = DmarcPolicy::none) {
  AuthSummary s;
  s.dmarc = verdict;
  s.policy = policy;
  return s;
}

TEST(InboundPolicy, DmarcRejectIsRefusedOrJunkedByLocalPolicy) {
  MailauthDomainPolicy strict;
  const Decision d = decide(dmarc(DmarcVerdict::fail, DmarcPolicy::reject), strict);
  EXPECT_EQ(d.action, Action::reject);
  EXPECT_EQ(d.code, 550);
  EXPECT_EQ(d.status, "5.7.1");
  MailauthDomainPolicy lenient;
  lenient.dmarc_reject = false;
  EXPECT_EQ(decide(dmarc(DmarcVerdict::fail, DmarcPolicy::reject), lenient).action, Action::junk);
}

TEST(InboundPolicy, QuarantineGoesToJunkUnlessTurnedOff) {
  MailauthDomainPolicy p;
  EXPECT_EQ(decide(dmarc(DmarcVerdict::fail, DmarcPolicy::quarantine), p).action, Action::junk);
  p.dmarc_quarantine = false;
  EXPECT_EQ(decide(dmarc(DmarcVerdict::fail, DmarcPolicy::quarantine), p).action, Action::deliver);
  EXPECT_EQ(decide(dmarc(DmarcVerdict::fail, DmarcPolicy::none), p).action, Action::deliver);
}

TEST(InboundPolicy, PassNoneAndPermerrorAreDelivered) {
  MailauthDomainPolicy p;
  for (auto v : {DmarcVerdict::pass, DmarcVerdict::none, DmarcVerdict::permerror}) {
    EXPECT_EQ(decide(dmarc(v, DmarcPolicy::reject), p).action, Action::deliver);
  }
}

TEST(InboundPolicy, DnsFailureDefersNeverPasses) {
  const Decision d = decide(dmarc(DmarcVerdict::temperror), MailauthDomainPolicy{});
  EXPECT_EQ(d.action, Action::defer);
  EXPECT_EQ(d.code, 451);
  EXPECT_EQ(d.status.substr(0, 4), "4.7.");
}

TEST(InboundPolicy, SpfFailAloneRefusedOnlyWhenAskedAndNotWithDkim) {
  AuthSummary s;
  s.spf_fail = true;
  MailauthDomainPolicy p;
  EXPECT_EQ(decide(s, p).action, Action::deliver);
  p.spf_fail_reject = true;
  const Decision d = decide(s, p);
  EXPECT_EQ(d.action, Action::reject);
  EXPECT_EQ(d.status, "5.7.23");
  s.dkim_pass = true;
  EXPECT_EQ(decide(s, p).action, Action::deliver);
}

TEST(InboundPolicy, AllowListAndTrustedArcOverride) {
  AuthSummary s = dmarc(DmarcVerdict::fail, DmarcPolicy::reject);
  s.trusted_arc = true;
  EXPECT_EQ(decide(s, MailauthDomainPolicy{}).action, Action::deliver);
  s = dmarc(DmarcVerdict::fail, DmarcPolicy::reject);
  s.allow_listed = true;
  EXPECT_EQ(decide(s, MailauthDomainPolicy{}).action, Action::deliver);
}

TEST(InboundPolicy, UnusableFromIsTreatedAsRejectWorthy) {
  AuthSummary s;
  s.from_unusable = true;
  EXPECT_EQ(decide(s, MailauthDomainPolicy{}).action, Action::reject);
  MailauthDomainPolicy lenient;
  lenient.dmarc_reject = false;
  EXPECT_EQ(decide(s, lenient).action, Action::junk);
}

TEST(InboundPolicy, CombiningRecipients) {
  const Decision refuse{Action::reject, 550, "5.7.1", "no", "dmarc"};
  const Decision deliver{};
  const Decision junk{Action::junk, 250, "", "", "q"};
  const Decision defer{Action::defer, 451, "4.7.0", "later", "dns"};
  std::vector<Action> actions;
  EXPECT_EQ(combine({refuse, refuse}, actions).action, Action::reject);
  EXPECT_EQ(actions, (std::vector<Action>{Action::reject, Action::reject}));
  EXPECT_EQ(combine({refuse, deliver, junk}, actions).action, Action::deliver);
  EXPECT_EQ(actions, (std::vector<Action>{Action::junk, Action::deliver, Action::junk}));
  EXPECT_EQ(combine({deliver, defer}, actions).action, Action::defer);
}

TEST(InboundPolicy, PolicyForTheRecipientsDomain) {
  MailauthConfig config;
  config.domains["lists.example.test"].dmarc_reject = false;
  EXPECT_FALSE(policy_for(config, "a@Lists.Example.test").dmarc_reject);
  EXPECT_TRUE(policy_for(config, "a@example.test").dmarc_reject);
}

}  // namespace
}  // namespace postamt::mailauth
