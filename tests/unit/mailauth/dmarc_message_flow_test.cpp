// The whole DMARC path as the SMTP session will run it on a received message: strip the
// Authentication-Results that claim our authserv-id, classify the From field, evaluate
// DMARC over DNS, and write our own field — which then reads back as ours.
#include <gtest/gtest.h>

#include "dmarc_scripted_zone.hpp"
#include "mailauth/dmarc_check.hpp"
#include "proto/mailauth/auth_results.hpp"
#include "proto/mailauth/dmarc_auth_results.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::string_view kOurId = "mx.example.org";

struct Delivered {
  std::string header;  // the header block as delivered, ours first
  DmarcOutcome outcome;
};

Delivered receive(testing::ScriptedZone& zone, std::string_view header_block, std::string spf_domain,
                  std::vector<DmarcDkimIdentity> dkim) {
  const std::string kept = strip_forged_authentication_results(header_block, kOurId);
  DmarcInput input;
  input.author = classify_from_header_block(kept);
  input.spf_pass = !spf_domain.empty();
  input.spf_domain = std::move(spf_domain);
  input.dkim = std::move(dkim);
  const DmarcOutcome outcome = testing::run_coroutine(check_dmarc(zone, input));
  AuthenticationResults ours{std::string(kOurId), std::nullopt, {}};
  if (input.spf_pass) ours.results.push_back(AuthMethodResult{"spf", "pass", "", "", {}}.with("smtp", "mailfrom", input.spf_domain));
  ours.results.push_back(dmarc_auth_result(outcome));
  return {format_authentication_results_field(ours) + kept, outcome};
}

TEST(DmarcMessageFlow, ForgedVerdictIsReplacedByOurs) {
  testing::ScriptedZone zone;
  zone.dmarc("bank.example", "v=DMARC1; p=reject");
  const std::string head =
      "Authentication-Results: mx.example.org; dmarc=pass header.from=bank.example\r\n"
      "Authentication-Results: relay.example.net; spf=pass smtp.mailfrom=evil.example\r\n"
      "From: Bank <security@bank.example>\r\n"
      "Subject: verify your account\r\n"
      "\r\n";
  const Delivered d = receive(zone, head, "evil.example", {{"evil.example", true}});
  EXPECT_EQ(d.outcome.result, DmarcResult::fail);
  EXPECT_EQ(d.outcome.policy, DmarcPolicy::reject);
  // Exactly one field claims our id, and it says fail.
  int ours = 0;
  for (const RawHeaderField& field : split_header_fields(d.header)) {
    if (!header_name_equals(field.name, "Authentication-Results")) continue;
    auto parsed = parse_authentication_results(field.value);
    ASSERT_TRUE(parsed) << field.value;
    if (parsed->authserv_id != kOurId) continue;
    ++ours;
    ASSERT_EQ(parsed->results.size(), 2u);
    EXPECT_EQ(parsed->results[1].method, "dmarc");
    EXPECT_EQ(parsed->results[1].result, "fail");
    EXPECT_EQ(parsed->results[1].properties[0].value, "bank.example");
  }
  EXPECT_EQ(ours, 1);
  EXPECT_NE(d.header.find("relay.example.net"), std::string::npos);  // foreign verdicts kept
}

TEST(DmarcMessageFlow, AlignedMessagePasses) {
  testing::ScriptedZone zone;
  zone.dmarc("example.com", "v=DMARC1; p=quarantine");
  const Delivered d = receive(zone, "From: a@news.example.com\r\nSubject: hi\r\n\r\n", "bounces.example.com", {});
  EXPECT_EQ(d.outcome.result, DmarcResult::pass);
  EXPECT_TRUE(d.header.starts_with("Authentication-Results: mx.example.org; spf=pass"));
  EXPECT_NE(d.header.find("dmarc=pass"), std::string::npos);
}

TEST(DmarcMessageFlow, SecondFromFieldIsAFailureWithoutLookingAtDns) {
  testing::ScriptedZone zone;
  zone.dmarc("evil.example", "v=DMARC1; p=none");
  const Delivered d = receive(zone, "From: a@bank.example\r\nFrom: b@evil.example\r\n\r\n", "evil.example",
                              {{"evil.example", true}});
  EXPECT_EQ(d.outcome.result, DmarcResult::fail);
  EXPECT_EQ(d.outcome.policy, DmarcPolicy::reject);
  EXPECT_TRUE(zone.asked.empty());
  EXPECT_NE(d.header.find("reason=\"several From fields\""), std::string::npos);
}

}  // namespace
}  // namespace postamt::mailauth
