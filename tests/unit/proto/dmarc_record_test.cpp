// The DMARC record parser (RFC 9989 §4.7-4.8, RFC 7489 §6.3).
#include <gtest/gtest.h>

#include "proto/mailauth/dmarc_record.hpp"

namespace postamt::mailauth {
namespace {

DmarcRecord parse_ok(std::string_view txt) {
  auto record = parse_dmarc_record(txt);
  EXPECT_TRUE(record) << txt << ": " << (record ? "" : record.error().message);
  return record ? *record : DmarcRecord{};
}

TEST(DmarcRecord, MinimalRecordHasTheDefaults) {
  const DmarcRecord r = parse_ok("v=DMARC1; p=reject");
  EXPECT_EQ(r.policy, DmarcPolicy::reject);
  EXPECT_FALSE(r.subdomain_policy);
  EXPECT_FALSE(r.nonexistent_policy);
  EXPECT_EQ(r.policy_for_subdomain(), DmarcPolicy::reject);
  EXPECT_EQ(r.policy_for_nonexistent(), DmarcPolicy::reject);
  EXPECT_EQ(r.dkim_alignment, DmarcAlignmentMode::relaxed);
  EXPECT_EQ(r.spf_alignment, DmarcAlignmentMode::relaxed);
  EXPECT_EQ(r.public_suffix, PublicSuffixFlag::unknown);
  EXPECT_EQ(r.percent, 100u);
  EXPECT_FALSE(r.testing);
  EXPECT_EQ(r.report_interval, 86400u);
  EXPECT_EQ(r.failure_options, "0");
  EXPECT_FALSE(r.policy_defaulted);
}

TEST(DmarcRecord, EveryTag) {
  const DmarcRecord r = parse_ok(
      "v=DMARC1; p=quarantine; sp=reject; np=none; psd=n; adkim=s; aspf=s; pct=20; t=y; "
      "rua=mailto:agg@example.com!10m, mailto:other@example.net; ruf=mailto:f@example.com!512; "
      "fo=1:d; rf=afrf; ri=3600");
  EXPECT_EQ(r.policy, DmarcPolicy::quarantine);
  EXPECT_EQ(r.subdomain_policy, DmarcPolicy::reject);
  EXPECT_EQ(r.nonexistent_policy, DmarcPolicy::none);
  EXPECT_EQ(r.public_suffix, PublicSuffixFlag::no);
  EXPECT_EQ(r.dkim_alignment, DmarcAlignmentMode::strict);
  EXPECT_EQ(r.spf_alignment, DmarcAlignmentMode::strict);
  EXPECT_EQ(r.percent, 20u);
  EXPECT_TRUE(r.testing);
  ASSERT_EQ(r.aggregate_report_uris.size(), 2u);
  EXPECT_EQ(r.aggregate_report_uris[0], (DmarcReportUri{"mailto:agg@example.com", 10ULL << 20}));
  EXPECT_EQ(r.aggregate_report_uris[1], (DmarcReportUri{"mailto:other@example.net", std::nullopt}));
  ASSERT_EQ(r.failure_report_uris.size(), 1u);
  EXPECT_EQ(r.failure_report_uris[0].max_size, 512u);
  EXPECT_EQ(r.failure_options, "1:d");
  EXPECT_EQ(r.report_interval, 3600u);
}

TEST(DmarcRecord, WhitespaceCaseAndTrailingSemicolon) {
  const DmarcRecord r = parse_ok("v = DMARC1 ;  P = Reject ; SP=None;psd=Y;");
  EXPECT_EQ(r.policy, DmarcPolicy::reject);
  EXPECT_EQ(r.subdomain_policy, DmarcPolicy::none);
  EXPECT_EQ(r.public_suffix, PublicSuffixFlag::yes);
}

TEST(DmarcRecord, VersionMustComeFirstAndMatchExactly) {
  EXPECT_FALSE(parse_dmarc_record("p=reject; v=DMARC1"));
  EXPECT_FALSE(parse_dmarc_record("v=dmarc1; p=reject"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC2; p=reject"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1x; p=reject"));
  EXPECT_FALSE(parse_dmarc_record("v=spf1 -all"));
  EXPECT_FALSE(parse_dmarc_record(""));
  EXPECT_TRUE(looks_like_dmarc_record("v=DMARC1"));
  EXPECT_FALSE(looks_like_dmarc_record("xv=DMARC1"));
}

TEST(DmarcRecord, UnknownTagsAreIgnored) {
  const DmarcRecord r = parse_ok("v=DMARC1; p=none; future=thing; x_y=1");
  EXPECT_EQ(r.policy, DmarcPolicy::none);
}

TEST(DmarcRecord, MalformedTagListsAreErrors) {
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; 9p=reject"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=reject; p=none"));  // duplicate: ambiguous
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; v=DMARC1; p=none"));
}

TEST(DmarcRecord, InvalidPolicyWithUsableRuaCountsAsNone) {
  const DmarcRecord r = parse_ok("v=DMARC1; p=bogus; sp=reject; rua=mailto:r@example.com");
  EXPECT_EQ(r.policy, DmarcPolicy::none);
  EXPECT_TRUE(r.policy_defaulted);
  EXPECT_FALSE(r.subdomain_policy);  // as if "v=DMARC1; p=none" plus the reporting tags
  EXPECT_EQ(r.aggregate_report_uris.size(), 1u);
  EXPECT_TRUE(parse_dmarc_record("v=DMARC1; p=reject; sp=junk; rua=mailto:r@example.com"));
}

TEST(DmarcRecord, InvalidPolicyWithoutUsableRuaIsAnError) {
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=bogus"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=bogus; rua=not a uri"));
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=reject; np=maybe"));
}

TEST(DmarcRecord, MissingPolicyCountsAsNone) {
  const DmarcRecord r = parse_ok("v=DMARC1; rua=mailto:r@example.com");
  EXPECT_EQ(r.policy, DmarcPolicy::none);
  EXPECT_TRUE(r.policy_defaulted);
  EXPECT_EQ(parse_ok("v=DMARC1").policy, DmarcPolicy::none);
}

TEST(DmarcRecord, InvalidOptionalValuesKeepTheirDefaults) {
  const DmarcRecord r = parse_ok("v=DMARC1; p=reject; adkim=x; aspf=; pct=101; ri=-1; fo=9; psd=maybe");
  EXPECT_EQ(r.dkim_alignment, DmarcAlignmentMode::relaxed);
  EXPECT_EQ(r.spf_alignment, DmarcAlignmentMode::relaxed);
  EXPECT_EQ(r.percent, 100u);
  EXPECT_EQ(r.report_interval, 86400u);
  EXPECT_EQ(r.failure_options, "0");
  EXPECT_EQ(r.public_suffix, PublicSuffixFlag::unknown);
  EXPECT_EQ(parse_ok("v=DMARC1; p=reject; pct=0").percent, 0u);
}

TEST(DmarcRecord, ReportUriSizesAndBadEntries) {
  const DmarcRecord r = parse_ok(
      "v=DMARC1; p=none; rua=mailto:a@x.example!1k,mailto:b@x.example!2G, bad, :nothing, mailto:c@x.example!5q,"
      "https://reports.example/dmarc!99999999999999999999t");
  ASSERT_EQ(r.aggregate_report_uris.size(), 2u);
  EXPECT_EQ(r.aggregate_report_uris[0].max_size, 1024u);
  EXPECT_EQ(r.aggregate_report_uris[1].max_size, 2ULL << 30);
}

}  // namespace
}  // namespace postamt::mailauth
