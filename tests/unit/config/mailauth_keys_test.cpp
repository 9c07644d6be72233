// [mailauth]: sender authentication keys, domain tables and their errors.
#include <gtest/gtest.h>

#include "server/config/config_loader.hpp"

namespace postamt::config {
namespace {

constexpr std::string_view kListener = "\n[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n";

Config parse_ok(std::string text) {
  auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().to_string());
  return result ? *result : Config{};
}

std::string parse_error(std::string text) {
  auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
  EXPECT_FALSE(result.has_value()) << text;
  return result ? "" : result.error().to_string();
}

TEST(MailauthKeys, DefaultsVerifyAndRefuseDmarcReject) {
  const Config c = parse_ok("");
  EXPECT_TRUE(c.mailauth.verify);
  EXPECT_TRUE(c.mailauth.policy.dmarc_reject);
  EXPECT_TRUE(c.mailauth.policy.dmarc_quarantine);
  EXPECT_FALSE(c.mailauth.policy.spf_fail_reject);
  EXPECT_EQ(c.mailauth.dmarc_mode, DmarcMode::rfc9989);
}

TEST(MailauthKeys, DomainTablesStartFromTheSectionDefaultsWhereverWritten) {
  const Config c = parse_ok(
      "[mailauth.domain.\"Lists.Example.test\"]\ndmarc_reject = false\n"
      "[mailauth]\nspf_fail_reject = true\ndmarc_mode = \"rfc7489\"\n"
      "allow_networks = [\"192.0.2.0/24\"]\nallow_domains = [\"Partner.example\"]\n"
      "trusted_arc_sealers = [\"google.com\"]\n");
  EXPECT_TRUE(c.mailauth.policy.spf_fail_reject);
  ASSERT_EQ(c.mailauth.domains.count("lists.example.test"), 1u);
  const auto& lists = c.mailauth.domains.at("lists.example.test");
  EXPECT_FALSE(lists.dmarc_reject);
  EXPECT_TRUE(lists.spf_fail_reject);  // from the section, though written after the table
  EXPECT_EQ(c.mailauth.dmarc_mode, DmarcMode::rfc7489);
  EXPECT_EQ(c.mailauth.allow_networks, std::vector<std::string>{"192.0.2.0/24"});
  EXPECT_EQ(c.mailauth.allow_domains, std::vector<std::string>{"partner.example"});
  EXPECT_EQ(c.mailauth.trusted_arc_sealers, std::vector<std::string>{"google.com"});
}

TEST(MailauthKeys, MistakesAreNamed) {
  EXPECT_NE(parse_error("[mailauth]\ndmarc_mode = \"strict\"\n").find("mailauth.dmarc_mode"), std::string::npos);
  EXPECT_NE(parse_error("[mailauth]\nallow_networks = [\"10.0.0.0/33\"]\n").find("mailauth.allow_networks"),
            std::string::npos);
  EXPECT_NE(parse_error("[mailauth.domain.\"not a domain\"]\ndmarc_reject = false\n").find("not a domain"),
            std::string::npos);
  EXPECT_NE(parse_error("[mailauth.domain.\"example.test\"]\ndmarc_rejct = false\n").find("dmarc_reject"),
            std::string::npos);  // did you mean
  EXPECT_NE(parse_error("[mailauth]\nverfy = true\n").find("verify"), std::string::npos);
}

}  // namespace
}  // namespace postamt::config
