// The dmarc entry of our Authentication-Results field.
#include <gtest/gtest.h>

#include "proto/mailauth/dmarc_auth_results.hpp"

namespace postamt::mailauth {
namespace {

TEST(DmarcAuthResult, PassWithPolicyComment) {
  DmarcOutcome outcome;
  outcome.result = DmarcResult::pass;
  outcome.from_domain = "example.com";
  outcome.record = parse_dmarc_record("v=DMARC1; p=reject; sp=quarantine").value();
  AuthenticationResults ar{"mx.example.org", std::nullopt, {dmarc_auth_result(outcome)}};
  EXPECT_EQ(format_authentication_results_value(ar),
            " mx.example.org; dmarc=pass\r\n\t(p=reject sp=quarantine dis=none) header.from=example.com");
}

TEST(DmarcAuthResult, FailCarriesTheReasonAndDisposition) {
  DmarcOutcome outcome;
  outcome.result = DmarcResult::fail;
  outcome.from_domain = "bank.example";
  outcome.record = parse_dmarc_record("v=DMARC1; p=reject; t=y").value();
  outcome.policy = DmarcPolicy::quarantine;
  outcome.reason = "no aligned SPF or DKIM pass";
  const AuthMethodResult r = dmarc_auth_result(outcome);
  EXPECT_EQ(r.result, "fail");
  EXPECT_EQ(r.reason, "no aligned SPF or DKIM pass");
  EXPECT_EQ(r.comment, "p=reject dis=quarantine");
  ASSERT_EQ(r.properties.size(), 1u);
  EXPECT_EQ(r.properties[0], (AuthResultProperty{"header", "from", "bank.example"}));
}

TEST(DmarcAuthResult, FromProblemHasNoHeaderFrom) {
  DmarcOutcome outcome;
  outcome.result = DmarcResult::fail;
  outcome.from_status = FromStatus::several_from_fields;
  outcome.policy = DmarcPolicy::reject;
  outcome.reason = std::string(to_string(FromStatus::several_from_fields));
  AuthenticationResults ar{"mx.example.org", std::nullopt, {dmarc_auth_result(outcome)}};
  EXPECT_EQ(format_authentication_results_value(ar),
            " mx.example.org; dmarc=fail (dis=reject)\r\n\treason=\"several From fields\"");
}

TEST(DmarcAuthResult, NoneAndTemperror) {
  DmarcOutcome none;
  none.from_domain = "example.net";
  none.reason = "no DMARC policy";
  EXPECT_EQ(dmarc_auth_result(none).result, "none");
  EXPECT_TRUE(dmarc_auth_result(none).reason.empty());
  DmarcOutcome temp;
  temp.result = DmarcResult::temperror;
  temp.from_domain = "example.net";
  temp.reason = "DNS failure looking up the DMARC policy";
  EXPECT_EQ(dmarc_auth_result(temp).reason, temp.reason);
}

}  // namespace
}  // namespace postamt::mailauth
