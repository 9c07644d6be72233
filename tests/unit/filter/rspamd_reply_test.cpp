// filter/rspamd_reply: rspamd's /checkv2 reply parsed and mapped to a verdict; the
// controller's learn replies; the request headers the filter sends.
#include <gtest/gtest.h>

#include "filter/rspamd_filter.hpp"
#include "filter/rspamd_learner.hpp"
#include "filter/rspamd_reply.hpp"

namespace postamt::filter {
namespace {

// The shape of a real rspamd 3.4 reply (abridged).
constexpr std::string_view kGtubeReply = R"({
  "is_skipped": true, "score": 1500.0, "required_score": 15.0, "action": "reject",
  "symbols": {
    "GTUBE": {"name": "GTUBE", "score": 0.0, "metric_score": 0.0, "options": ["0.0"]},
    "MIME_GOOD": {"name": "MIME_GOOD", "score": -0.1, "metric_score": -0.1},
    "R_SPF_NA": {"name": "R_SPF_NA", "score": 2.5}
  },
  "messages": {"smtp_message": "Gtube pattern"},
  "message-id": "x@y", "time_real": 0.01, "milliseconds": 10, "future_field": [1, 2]
})";

TEST(RspamdReply, ParsesAndRejects) {
  auto reply = parse_rspamd_reply(kGtubeReply);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->action, "reject");
  EXPECT_DOUBLE_EQ(reply->score, 1500.0);
  EXPECT_DOUBLE_EQ(reply->required_score.value_or(0), 15.0);
  ASSERT_EQ(reply->symbols.size(), 3u);
  EXPECT_EQ(reply->symbols[0].name, "R_SPF_NA");  // highest score first
  EXPECT_EQ(reply->smtp_message, "Gtube pattern");
  const Verdict verdict = rspamd_verdict(*reply);
  EXPECT_EQ(verdict.action, Action::reject);
  ASSERT_TRUE(verdict.reply);
  EXPECT_EQ(verdict.reply->code, 550u);
  EXPECT_EQ(verdict.reply->status, "5.7.1");
  EXPECT_EQ(verdict.reply->text, "Gtube pattern");
  EXPECT_EQ(verdict.symbols, (std::vector<std::string>{"R_SPF_NA", "MIME_GOOD"}));  // scored ones only
  EXPECT_DOUBLE_EQ(verdict.score.value_or(0), 1500.0);
}

TEST(RspamdReply, MapsActions) {
  const std::pair<std::string_view, Action> cases[] = {
      {"no action", Action::accept}, {"greylist", Action::defer}, {"add header", Action::junk},
      {"rewrite subject", Action::junk}, {"soft reject", Action::defer}, {"reject", Action::reject},
      {"something new", Action::accept}};
  for (const auto& [action, expected] : cases) {
    RspamdReply reply;
    reply.action = std::string(action);
    const Verdict verdict = rspamd_verdict(reply);
    EXPECT_EQ(verdict.action, expected) << action;
    if (expected == Action::defer) {
      ASSERT_TRUE(verdict.reply);
      EXPECT_EQ(verdict.reply->code, 451u);
      EXPECT_EQ(verdict.reply->status, "4.7.1");
    }
    if (expected == Action::reject) {
      EXPECT_EQ(verdict.reply->text, "Spam message rejected");
    }
  }
}

TEST(RspamdReply, MilterBlockBecomesHeaderChanges) {
  auto reply = parse_rspamd_reply(R"({"action": "add header", "score": 7.5,
    "milter": {"add_headers": {"X-Spamd-Bar": "+++++++", "X-Spam": {"value": "Yes", "order": 0},
                               "X-Multi": [{"value": "a\r\n b"}, {"value": "c\nd"}]},
               "remove_headers": {"X-Spam": 0, "X-Old": 2}}})");
  ASSERT_TRUE(reply) << reply.error().message;
  const Verdict verdict = rspamd_verdict(*reply);
  EXPECT_EQ(verdict.action, Action::junk);
  std::vector<HeaderChange> adds;
  std::size_t removals_of_x_spam = 0;
  bool removes_second_old = false;
  for (const auto& change : verdict.header_changes) {
    if (change.kind == HeaderChange::Kind::change) {
      EXPECT_TRUE(change.value.empty());
      if (change.name == "X-Spam") ++removals_of_x_spam;
      if (change.name == "X-Old" && change.index == 2) removes_second_old = true;
    } else {
      adds.push_back(change);
    }
  }
  EXPECT_GT(removals_of_x_spam, 1u);
  EXPECT_TRUE(removes_second_old);
  ASSERT_EQ(adds.size(), 4u);
  // Object keys come sorted (nlohmann's std::map): X-Multi, X-Spam, X-Spamd-Bar.
  EXPECT_EQ(adds[0].name, "X-Multi");
  EXPECT_EQ(adds[0].value, "a\r\n b");  // a fold is kept
  EXPECT_EQ(adds[1].value, "c d");      // a bare line break is not
  EXPECT_EQ(adds[2].name, "X-Spam");
  EXPECT_EQ(adds[2].kind, HeaderChange::Kind::insert);
  EXPECT_EQ(adds[2].index, 0u);
  EXPECT_EQ(adds[3].kind, HeaderChange::Kind::add);
}

TEST(RspamdReply, Garbage) {
  for (const std::string_view bad : {"", "not json", "[1,2]", "{\"score\": 1}", "{\"error\": \"Bad request\"}",
                                     R"({"action":"reject","milter":{"add_headers":{"Bad Name":"x"}}})",
                                     R"({"action":"reject","milter":{"add_headers":{"X":7}}})"}) {
    EXPECT_FALSE(parse_rspamd_reply(bad)) << bad;
  }
  auto skipped = parse_rspamd_reply(R"({"is_skipped": true})");
  ASSERT_TRUE(skipped);
  EXPECT_TRUE(rspamd_verdict(*skipped).skipped);
}

TEST(RspamdLearnReply, Outcomes) {
  EXPECT_TRUE(parse_rspamd_learn_reply(200, R"({"success":true})").ok);
  const auto again = parse_rspamd_learn_reply(404, R"({"error":"<x@y> has been already learned as spam, ignore it"})");
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(again.note, "already learned");
  const auto denied = parse_rspamd_learn_reply(403, R"({"error":"Unauthorized"})");
  EXPECT_FALSE(denied.ok);
  EXPECT_EQ(denied.note, "Unauthorized");
  EXPECT_FALSE(parse_rspamd_learn_reply(500, "oops").ok);
}

TEST(RspamdRequest, HeadersCarryTheEnvelope) {
  MessageFacts facts;
  facts.queue_id = "Q1";
  facts.client_ip = "192.0.2.1";
  facts.helo = "mx.example.net";
  facts.recipients = {"a@example.org", "b@example.org"};
  facts.our_hostname = "mail.example.org";
  const auto headers = rspamd_request_headers(facts);
  std::vector<std::string> lines;
  for (const auto& h : headers) lines.push_back(h.name + ": " + h.value);
  EXPECT_EQ(lines, (std::vector<std::string>{"IP: 192.0.2.1", "Helo: mx.example.net", "From: <>",
                                             "Rcpt: a@example.org", "Rcpt: b@example.org", "Queue-Id: Q1",
                                             "MTA-Name: mail.example.org"}));
}

TEST(RspamdConfig, Urls) {
  RspamdConfig config;
  config.url = "http://[::1]:11333";
  EXPECT_EQ(rspamd_controller_url(config).value_or(""), "http://[::1]:11334/");
  config.controller_url = "http://127.0.0.1:9999/";
  EXPECT_EQ(rspamd_controller_url(config).value_or(""), "http://127.0.0.1:9999/");
  config.url = "https://127.0.0.1:11333";
  auto refused = make_rspamd_filter(config, 1000);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("https is not supported"), std::string::npos);
}

}  // namespace
}  // namespace postamt::filter
