#include "proto/mailauth/spf_record.hpp"

#include <gtest/gtest.h>

namespace postamt::mailauth {
namespace {

TEST(SpfRecord, SelectsOnlyVersion1RecordsEndingInSpaceOrEnd) {  // RFC 7208 §4.5
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_TRUE(is_spf_record("V=SpF1 +all"));
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_FALSE(is_spf_record("v=spf1-all"));
  EXPECT_FALSE(is_spf_record("spf2.0/pra -all"));
  EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
}

TEST(SpfRecord, ParsesEveryMechanismWithQualifiersAndCidrs) {
  auto record = parse_spf_record(
      "v=spf1 +all -include:_spf.example.com ~a ?a:mail.example.com/24//64 mx/28 mx:example.net//48 ptr "
      "ptr:example.org ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{ir}.bl.example.com");
  ASSERT_TRUE(record) << record.error();
  ASSERT_EQ(record->mechanisms.size(), 11u);
  const auto& m = record->mechanisms;
  EXPECT_EQ(m[0].kind, SpfMechanismKind::all);
  EXPECT_EQ(m[0].qualifier, SpfQualifier::pass);
  EXPECT_EQ(m[1].kind, SpfMechanismKind::include);
  EXPECT_EQ(m[1].qualifier, SpfQualifier::fail);
  EXPECT_EQ(m[1].domain_spec, "_spf.example.com");
  EXPECT_EQ(m[2].qualifier, SpfQualifier::softfail);
  EXPECT_TRUE(m[2].domain_spec.empty());
  EXPECT_EQ(m[3].qualifier, SpfQualifier::neutral);
  EXPECT_EQ(m[3].domain_spec, "mail.example.com");
  EXPECT_EQ(m[3].cidr4, 24);
  EXPECT_EQ(m[3].cidr6, 64);
  EXPECT_EQ(m[4].cidr4, 28);
  EXPECT_EQ(m[4].cidr6, 128);
  EXPECT_EQ(m[5].cidr4, 32);
  EXPECT_EQ(m[5].cidr6, 48);
  EXPECT_EQ(m[6].kind, SpfMechanismKind::ptr);
  EXPECT_EQ(m[7].domain_spec, "example.org");
  EXPECT_EQ(m[8].kind, SpfMechanismKind::ip4);
  EXPECT_EQ(m[8].network.to_string(), "192.0.2.0");
  EXPECT_EQ(m[8].cidr4, 24);
  EXPECT_EQ(m[9].network.to_string(), "2001:db8::");
  EXPECT_EQ(m[9].cidr6, 32);
  EXPECT_EQ(m[10].kind, SpfMechanismKind::exists);
  EXPECT_EQ(m[10].text, "exists:%{ir}.bl.example.com");
  EXPECT_TRUE(record->has_all);
}

TEST(SpfRecord, ModifiersRedirectExpAndUnknownOnes) {
  auto record = parse_spf_record("v=spf1 a redirect=_spf.example.com exp=explain.%{d} moo.cow-far_out=man:dog/cat");
  ASSERT_TRUE(record) << record.error();
  EXPECT_EQ(record->redirect, "_spf.example.com");
  EXPECT_EQ(record->explanation, "explain.%{d}");
  EXPECT_EQ(record->mechanisms.size(), 1u);
  EXPECT_FALSE(record->has_all);
}

TEST(SpfRecord, ADomainSpecMayHoldColonAndSlash) {
  auto record = parse_spf_record("v=spf1 a:foo:bar/baz.example.com");
  ASSERT_TRUE(record) << record.error();
  EXPECT_EQ(record->mechanisms[0].domain_spec, "foo:bar/baz.example.com");
  EXPECT_EQ(record->mechanisms[0].cidr4, 32);
}

TEST(SpfRecord, SpacesAnywhereAndEmptyRecords) {
  EXPECT_TRUE(parse_spf_record("v=spf1"));
  EXPECT_TRUE(parse_spf_record("v=spf1   a    -all   "));
}

class SpfRecordSyntaxError : public ::testing::TestWithParam<const char*> {};

TEST_P(SpfRecordSyntaxError, IsRefusedAsAWhole) {  // §4.6: permerror, nothing evaluated
  EXPECT_FALSE(parse_spf_record(GetParam())) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    RFC7208, SpfRecordSyntaxError,
    ::testing::Values("v=spf1 -all.", "v=spf1 -all:foobar", "v=spf1 -all/8", "v=spf1 ptr/0 -all", "v=spf1 a//129",
                      "v=spf1 a/33", "v=spf1 a/24/64", "v=spf1 ip4:1.2.3.4/032", "v=spf1 ip4:1.2.3.4//32",
                      "v=spf1 ip4", "v=spf1 ip4:1.2.3", "v=spf1 ip4:1.2.3.4:8080", "v=spf1 ip6::CAFE::BABE",
                      "v=spf1 ip6:::1/129", "v=spf1 include:", "v=spf1 include", "v=spf1 exists",
                      "v=spf1 exists:foo.com/24", "v=spf1 a:", "v=spf1 ptr:", "v=spf1 a:museum",
                      "v=spf1 a:museum.", "v=spf1 a:111.222.33.44", "v=spf1 a:example.-com",
                      "v=spf1 a:example.com:8080", "v=spf1 redirect=a.example redirect=b.example",
                      "v=spf1 exp=a.example exp=b.example", "v=spf1 exp=", "v=spf1 redirect=", "v=spf1 exp=-all",
                      "v=spf1 redirect:t2.example.com", "v=spf1 1up=foo", "v=spf1 =all", "v=spf1 foo=%abc",
                      "v=spf1 moo.cow/far_out=man:dog/cat", "v=spf1 -redirect=a.example.com",
                      "v=spf1 exp=%{r}.example.com", "v=spf1 a:%{a}.example.com",
                      "v=spf1 exists:%(ir).sbl.example.com", "v=spf1 exists:foo%.sbl.example.com",
                      "v=spf1 ip4:192.0.2.5\n include:x.example.com", "v=spf1 a:ctrl.example.com\rptr",
                      "v=spf1 \x80" "a:example.net", "v=spf1 a:foo.example.com\t-all", "v=spf1 mx:%{d0}.example.com",
                      "v=spf1 foo"));

TEST(SpfRecord, ValidDomainNames) {  // §4.3
  EXPECT_TRUE(is_valid_domain("example.com", true));
  EXPECT_TRUE(is_valid_domain("example.com.", true));
  EXPECT_FALSE(is_valid_domain("localhost", true));
  EXPECT_TRUE(is_valid_domain("localhost", false));
  EXPECT_FALSE(is_valid_domain("a..example.com", false));
  EXPECT_FALSE(is_valid_domain(std::string(64, 'a') + ".example.com", false));
  EXPECT_TRUE(is_valid_domain(std::string(63, 'a') + ".example.com", false));
  EXPECT_FALSE(is_valid_domain("", false));
}

}  // namespace
}  // namespace postamt::mailauth
