// proto/mailauth ARC parts: the three parsers, set collection and the form checks of
// RFC 8617 §5.2, the seal hash input, the set builder, merged Authentication-Results.
#include <gtest/gtest.h>

#include <string>

#include "proto/mailauth/arc_chain.hpp"
#include "proto/mailauth/arc_headers.hpp"
#include "proto/mailauth/arc_set_builder.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::string_view kSignature = "dGVzdA==";

std::string seal_value(int instance, std::string_view cv) {
  return " i=" + std::to_string(instance) + "; a=rsa-sha256; cv=" + std::string(cv) +
         "; d=example.org; s=sel; t=12345; b=" + std::string(kSignature);
}
std::string ams_value(int instance) {
  return " i=" + std::to_string(instance) + "; a=rsa-sha256; d=example.org; s=sel; h=from:to; bh=" +
         std::string(kSignature) + "; b=" + std::string(kSignature);
}
std::string aar_value(int instance) { return " i=" + std::to_string(instance) + "; mx.example.org; spf=pass"; }

// A head with sets 1..n, newest on top, and `extra` fields after them.
std::string head_with_sets(int n, std::string extra = {}) {
  std::string head;
  for (int i = n; i >= 1; --i) {
    head += "ARC-Seal:" + seal_value(i, i == 1 ? "none" : "pass") + "\r\n";
    head += "ARC-Message-Signature:" + ams_value(i) + "\r\n";
    head += "ARC-Authentication-Results:" + aar_value(i) + "\r\n";
  }
  return head + extra + "From: a@example.org\r\n\r\n";
}

TEST(ArcHeaders, ParsesASealAndRefusesWhatRfc8617Forbids) {
  auto seal = parse_arc_seal(seal_value(3, "pass"));
  ASSERT_TRUE(seal) << seal.error().message;
  EXPECT_EQ(seal->instance, 3u);
  EXPECT_EQ(seal->chain_status, ArcChainStatus::pass);
  EXPECT_EQ(seal->domain, "example.org");
  EXPECT_EQ(seal->timestamp, 12345u);
  EXPECT_FALSE(parse_arc_seal(seal_value(1, "none") + "; h=from"));           // §4.1.3
  EXPECT_FALSE(parse_arc_seal(seal_value(1, "Pass")));                        // values are case-sensitive
  EXPECT_FALSE(parse_arc_seal(seal_value(51, "pass")));                       // §4.2.1
  EXPECT_FALSE(parse_arc_seal(seal_value(0, "none")));
  EXPECT_FALSE(parse_arc_seal(" i=1; a=rsa-sha1; cv=none; d=example.org; s=s; b=dGVzdA=="));  // RFC 8301
  EXPECT_FALSE(parse_arc_seal(" i=1; a=rsa-sha256; d=example.org; s=s; b=dGVzdA=="));         // no cv=
  EXPECT_FALSE(parse_arc_seal(" i=1; a=rsa-sha256; cv=none; d=exa..mple; s=s; b=dGVzdA=="));
}

TEST(ArcHeaders, ParsesAnAmsWithArcDefaults) {
  auto ams = parse_arc_message_signature(ams_value(2));
  ASSERT_TRUE(ams) << ams.error().message;
  EXPECT_EQ(ams->instance, 2u);
  EXPECT_EQ(ams->header_canon, DkimCanon::relaxed);  // no c=: relaxed/relaxed (see the header)
  EXPECT_EQ(ams->signed_headers, (std::vector<std::string>{"from", "to"}));
  EXPECT_FALSE(parse_arc_message_signature(ams_value(1) + "; c=simple/relaxed; c=simple"));  // duplicate tag
  auto with_seal = ams_value(1);
  with_seal.replace(with_seal.find("h=from:to"), 9, "h=from:ARC-Seal");
  EXPECT_FALSE(parse_arc_message_signature(with_seal));  // §4.1.2
  auto empty_h = ams_value(1);
  empty_h.replace(empty_h.find("h=from:to"), 9, "h=");
  ASSERT_TRUE(parse_arc_message_signature(empty_h));
  EXPECT_TRUE(parse_arc_message_signature(empty_h)->signed_headers.empty());
}

TEST(ArcHeaders, TheAarInstanceComesFirstWithItsSemicolon) {
  auto aar = parse_arc_authentication_results(" i=7;  mx.example.org; dkim=pass ");
  ASSERT_TRUE(aar);
  EXPECT_EQ(aar->instance, 7u);
  EXPECT_EQ(aar->payload, "mx.example.org; dkim=pass");
  EXPECT_FALSE(parse_arc_authentication_results(" mx.example.org; i=1; dkim=pass"));
  EXPECT_FALSE(parse_arc_authentication_results(" i=1 mx.example.org; dkim=pass"));
  EXPECT_FALSE(parse_arc_authentication_results(" i=x; mx.example.org"));
  EXPECT_FALSE(parse_arc_authentication_results(" i=1;"));
}

TEST(ArcChain, NoArcFieldIsNoneAndAWellFormedChainIsReadInOrder) {
  const std::string plain = "From: a@example.org\r\nSubject: x\r\n\r\n";
  EXPECT_EQ(collect_arc_chain(split_message_head(plain).fields).status, ArcChainStatus::none);
  const std::string text = head_with_sets(3);
  const auto head = split_message_head(text);
  const ArcChain chain = collect_arc_chain(head.fields);
  ASSERT_EQ(chain.status, ArcChainStatus::pass) << chain.reason;
  ASSERT_EQ(chain.sets.size(), 3u);
  for (std::uint32_t k = 0; k < 3; ++k) EXPECT_EQ(chain.sets[k].seal.instance, k + 1);
  EXPECT_EQ(find_arc_chain_top(head.fields).highest_instance, 3u);
}

TEST(ArcChain, TheFormChecksOfSection52) {
  auto status_of = [](const std::string& text) {
    const auto head = split_message_head(text);
    return collect_arc_chain(head.fields);
  };
  // A missing AMS, a duplicate AAR, a gap, cv=pass at i=1, cv=none above it.
  std::string missing = head_with_sets(2);
  missing.erase(missing.find("ARC-Message-Signature: i=1"), ("ARC-Message-Signature:" + ams_value(1) + "\r\n").size());
  EXPECT_EQ(status_of(missing).status, ArcChainStatus::fail);
  EXPECT_EQ(status_of(head_with_sets(2, "ARC-Authentication-Results:" + aar_value(2) + "\r\n")).status,
            ArcChainStatus::fail);
  std::string gap = head_with_sets(1, "ARC-Seal:" + seal_value(3, "pass") + "\r\nARC-Message-Signature:" +
                                          ams_value(3) + "\r\nARC-Authentication-Results:" + aar_value(3) + "\r\n");
  EXPECT_EQ(status_of(gap).status, ArcChainStatus::fail);
  std::string first_pass = head_with_sets(1);
  first_pass.replace(first_pass.find("cv=none"), 7, "cv=pass");
  EXPECT_EQ(status_of(first_pass).status, ArcChainStatus::fail);
  // The newest seal says fail: fail, and a sealer must not add a set.
  std::string ended = head_with_sets(2);
  ended.replace(ended.find("cv=pass"), 7, "cv=fail");
  const ArcChain failed = status_of(ended);
  EXPECT_EQ(failed.status, ArcChainStatus::fail);
  EXPECT_NE(failed.reason.find("cv=fail"), std::string::npos);
  EXPECT_TRUE(find_arc_chain_top(split_message_head(ended).fields).newest_seal_failed);
}

TEST(ArcChain, FiftySetsAreReadAndAFiftyFirstFails) {
  const std::string fifty = head_with_sets(50);
  EXPECT_EQ(collect_arc_chain(split_message_head(fifty).fields).sets.size(), 50u);
  // An instance of 51 does not parse, so a 151st ARC field can only be a duplicate.
  const std::string more = head_with_sets(50, "ARC-Seal:" + seal_value(50, "pass") + "\r\n");
  EXPECT_EQ(collect_arc_chain(split_message_head(more).fields).status, ArcChainStatus::fail);
}

TEST(ArcChain, TheSealHashInputIsTheRelaxedSetsWithTheLastBEmptied) {
  const ArcSetText sets[] = {{"ARC-Authentication-Results: i=1;  mx; spf=pass", "ARC-Message-Signature: i=1; b=AA",
                              "ARC-Seal: i=1; cv=none; b=QQ"},
                             {"ARC-Authentication-Results: i=2; mx; dkim=pass", "ARC-Message-Signature: i=2; b=BB",
                              "ARC-Seal: i=2; cv=pass;\r\n b=CC\r\n DD; t=1"}};
  StringSink sink;
  write_seal_hash_input(sets, sink);
  EXPECT_EQ(sink.text,
            "arc-authentication-results:i=1; mx; spf=pass\r\n"
            "arc-message-signature:i=1; b=AA\r\n"
            "arc-seal:i=1; cv=none; b=QQ\r\n"
            "arc-authentication-results:i=2; mx; dkim=pass\r\n"
            "arc-message-signature:i=2; b=BB\r\n"
            "arc-seal:i=2; cv=pass; b=; t=1");
}

TEST(ArcSetBuilder, WritesTagsInTheSuiteOrderWithBOnItsOwnLine) {
  ArcSealFields seal{2, DkimAlgorithm::rsa_sha256, ArcChainStatus::pass, "example.org", "sel", 12345};
  EXPECT_EQ(build_arc_seal_field(seal, "QUJD"),
            "ARC-Seal: a=rsa-sha256;\r\n b=QUJD; cv=pass; d=example.org; i=2; s=sel; t=12345");
  ArcMessageSignatureFields ams{1, DkimAlgorithm::ed25519_sha256, "example.org", "sel", 7, {"from", "to"}, "Ymg="};
  EXPECT_EQ(build_arc_message_signature_field(ams),
            "ARC-Message-Signature: a=ed25519-sha256;\r\n b=; bh=Ymg=; c=relaxed/relaxed; d=example.org; h=from:to; i=1;"
            " s=sel; t=7");
  EXPECT_EQ(build_arc_authentication_results_field(3, "  mx; arc=pass \r\n"), "ARC-Authentication-Results: i=3; mx; arc=pass");
}

TEST(ArcSetBuilder, MergesOurAuthenticationResultsOnly) {
  const std::string text =
      "Authentication-Results: mx.example.org; spf=pass (a; comment) smtp.mailfrom=a@b\r\n"
      "Authentication-Results: other.example; dkim=fail\r\n"
      "Authentication-Results: MX.example.org 1; dkim=pass header.d=\"x;y\"; ; dmarc=pass\r\n"
      "From: a@b\r\n\r\n";
  const auto head = split_message_head(text);
  EXPECT_EQ(merged_auth_results(head.fields, "mx.example.org"),
            "mx.example.org; spf=pass (a; comment) smtp.mailfrom=a@b;\r\n  dkim=pass header.d=\"x;y\";\r\n  dmarc=pass");
  EXPECT_EQ(merged_auth_results(head.fields, "nobody.example"), "");
}

}  // namespace
}  // namespace postamt::mailauth
