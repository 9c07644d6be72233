// The DMARC stepper itself: the tree-walk targets, one question at a time for the policy
// walk, answers fed back, and no DNS for a message without a usable From domain.
#include <gtest/gtest.h>

#include "proto/mailauth/dmarc_evaluator.hpp"

namespace postamt::mailauth {
namespace {

TEST(DmarcTreeWalk, Targets) {
  EXPECT_EQ(dmarc_tree_walk_targets("example.com"), (std::vector<std::string>{"example.com", "com"}));
  EXPECT_EQ(dmarc_tree_walk_targets("com"), (std::vector<std::string>{"com"}));
  EXPECT_EQ(dmarc_tree_walk_targets("a.b.c.d.e.f.g.h"),
            (std::vector<std::string>{"a.b.c.d.e.f.g.h", "b.c.d.e.f.g.h", "c.d.e.f.g.h", "d.e.f.g.h", "e.f.g.h",
                                      "f.g.h", "g.h", "h"}));
  EXPECT_EQ(dmarc_tree_walk_targets("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20").size(), 8u);
  EXPECT_EQ(dmarc_tree_walk_targets("a.b.c.d.e.f.g").size(), 7u);
}

TEST(DmarcEvaluator, StepsThroughThePolicyWalk) {
  DmarcEvaluationInput input;
  input.author = {FromStatus::ok, "News.Example.com"};
  input.dkim.push_back({"example.com", true});
  DmarcEvaluator evaluator(input);

  auto step = evaluator.next();
  auto* need = std::get_if<DmarcNeedAnswers>(&step);
  ASSERT_TRUE(need);
  ASSERT_EQ(need->questions, (std::vector<DnsQuestion>{{"_dmarc.news.example.com", RecordType::txt}}));
  evaluator.provide(need->questions[0], DnsAnswer::nx_domain());

  step = evaluator.next();
  need = std::get_if<DmarcNeedAnswers>(&step);
  ASSERT_TRUE(need);
  ASSERT_EQ(need->questions, (std::vector<DnsQuestion>{{"_dmarc.example.com", RecordType::txt}}));
  evaluator.provide(need->questions[0], DnsAnswer::with({"v=DMARC1; p=reject"}));

  step = evaluator.next();
  need = std::get_if<DmarcNeedAnswers>(&step);
  ASSERT_TRUE(need);  // the organisational walks go on to com (from news.example.com and example.com)
  ASSERT_EQ(need->questions, (std::vector<DnsQuestion>{{"_dmarc.com", RecordType::txt}}));
  // Not answering repeats the question.
  step = evaluator.next();
  ASSERT_TRUE(std::holds_alternative<DmarcNeedAnswers>(step));
  evaluator.provide({"_dmarc.com", RecordType::txt}, DnsAnswer::nx_domain());

  step = evaluator.next();
  auto* outcome = std::get_if<DmarcOutcome>(&step);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->result, DmarcResult::pass);
  EXPECT_EQ(outcome->from_domain, "news.example.com");
  EXPECT_EQ(outcome->policy_domain, "example.com");
  EXPECT_EQ(outcome->organisational_domain, "example.com");
  EXPECT_TRUE(outcome->dkim_aligned);
  EXPECT_EQ(outcome->reason, "DKIM aligned");
}

TEST(DmarcEvaluator, NoFromDomainNeedsNoDns) {
  DmarcEvaluationInput input;
  input.author = {FromStatus::several_mailboxes, ""};
  DmarcEvaluator evaluator(input);
  auto step = evaluator.next();
  auto* outcome = std::get_if<DmarcOutcome>(&step);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->result, DmarcResult::fail);
  EXPECT_EQ(outcome->policy, DmarcPolicy::reject);
  EXPECT_EQ(outcome->reason, "several mailboxes in From");
}

}  // namespace
}  // namespace postamt::mailauth
