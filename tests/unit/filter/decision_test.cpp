#include "filter/decision.hpp"

#include <gtest/gtest.h>

namespace postamt::filter {
namespace {

Verdict verdict(std::string filter, Action action, std::optional<double> score = std::nullopt,
                std::vector<std::string> symbols = {}) {
  Verdict v;
  v.filter = std::move(filter);
  v.action = action;
  v.score = score;
  v.symbols = std::move(symbols);
  return v;
}

const HeaderChange* find_change(const Decision& decision, std::string_view name) {
  for (const auto& change : decision.header_changes) {
    if (change.name == name) return &change;
  }
  return nullptr;
}

TEST(FilterDecision, EverythingAcceptedDeliversWithAStatusField) {
  const Decision d = decide({verdict("dnsbl", Action::accept), verdict("rspamd", Action::accept, 1.5, {"R_SPF_ALLOW"})});
  EXPECT_EQ(d.action, Action::accept);
  EXPECT_TRUE(d.decided_by.empty());
  const HeaderChange* status = find_change(d, "X-Spam-Status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->value, "No, score=1.50, tests=rspamd:R_SPF_ALLOW");
  EXPECT_EQ(status->kind, HeaderChange::Kind::insert);
  EXPECT_EQ(status->index, 0u);
  EXPECT_EQ(find_change(d, "X-Spam-Flag"), nullptr);
  EXPECT_EQ(d.summary, "dnsbl=accept rspamd=accept(1.50; R_SPF_ALLOW)");
}

TEST(FilterDecision, MostSevereWinsAndItsOwnReplyIsUsed) {
  Verdict rejecting = verdict("milter:clamav", Action::reject);
  rejecting.reply = proto::smtp::make_reply(554, "5.7.0", "Virus found");
  const Decision d = decide({verdict("rspamd", Action::junk, 7.0), rejecting});
  EXPECT_EQ(d.action, Action::reject);
  EXPECT_EQ(d.decided_by, "milter:clamav");
  EXPECT_EQ(d.reply.code, 554u);
  EXPECT_EQ(d.reply.text, "Virus found");
  EXPECT_TRUE(d.header_changes.empty());  // nothing is stored
}

TEST(FilterDecision, AReplyOfTheWrongClassFallsBackToTheDefault) {
  Verdict deferring = verdict("milter:x", Action::defer);
  deferring.reply = proto::smtp::make_reply(550, "5.7.1", "no");  // a 5xx cannot defer
  const Decision d = decide({deferring});
  EXPECT_EQ(d.reply.code, 451u);
  EXPECT_EQ(d.reply.status, "4.7.1");
}

TEST(FilterDecision, JunkAddsTheFlagAndNamesTheFilter) {
  const Decision d = decide({verdict("dnsbl", Action::junk, 0.5, {"b.example=127.0.0.2"})});
  EXPECT_EQ(d.action, Action::junk);
  ASSERT_NE(find_change(d, "X-Spam-Flag"), nullptr);
  EXPECT_EQ(find_change(d, "X-Spam-Flag")->value, "YES");
  EXPECT_EQ(find_change(d, "X-Spam-Status")->value, "Yes, score=0.50, filter=dnsbl, tests=dnsbl:b.example=127.0.0.2");
}

TEST(FilterDecision, FiltersHeaderChangesComeFirstInTheirOrder) {
  Verdict a = verdict("milter:a", Action::accept);
  a.header_changes.push_back({HeaderChange::Kind::add, "X-A", "1", 0});
  Verdict b = verdict("milter:b", Action::accept);
  b.header_changes.push_back({HeaderChange::Kind::change, "Subject", "[b] hi", 1});
  const Decision d = decide({a, b});
  ASSERT_GE(d.header_changes.size(), 3u);
  EXPECT_EQ(d.header_changes[0].name, "X-A");
  EXPECT_EQ(d.header_changes[1].name, "Subject");
  EXPECT_EQ(d.header_changes[2].name, "X-Spam-Status");
}

TEST(FilterDecision, FailuresAndSkipsShowInTheSummary) {
  Verdict failed = verdict("rspamd", Action::accept);
  failed.failed = true;
  failed.note = "connection refused";
  const Decision d = decide({failed});
  EXPECT_EQ(d.summary, "rspamd=accept(failed; connection refused)");
  EXPECT_EQ(find_change(d, "X-Spam-Status")->value, "No");
}

TEST(FilterDecision, NobodyJudgedLeavesTheMessageAsItCame) {
  Verdict learning = verdict("classifier", Action::accept);
  learning.skipped = true;
  const Decision d = decide({learning});
  EXPECT_EQ(d.action, Action::accept);
  EXPECT_TRUE(d.header_changes.empty()) << "no X-Spam-Status when every filter skipped the message";
  EXPECT_EQ(d.summary, "classifier=accept(skipped)");
  const Decision judged = decide({learning, verdict("dnsbl", Action::accept)});
  ASSERT_NE(find_change(judged, "X-Spam-Status"), nullptr);
}

TEST(FilterDecision, OurVerdictFieldsAreRecognised) {
  EXPECT_TRUE(is_our_verdict_field("x-spam-status"));
  EXPECT_TRUE(is_our_verdict_field("X-Spam-Flag"));
  EXPECT_FALSE(is_our_verdict_field("X-Spam-Level"));
}

}  // namespace
}  // namespace postamt::filter
