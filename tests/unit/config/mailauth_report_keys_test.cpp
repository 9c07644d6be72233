// [mailauth]: the DMARC aggregate report keys (send_reports, report_hour, report_from).
#include <gtest/gtest.h>

#include "server/config/config_loader.hpp"

namespace postamt::config {
namespace {

constexpr std::string_view kListener = "\n[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n";

TEST(MailauthReportKeys, DefaultsAndValues) {
  auto defaults = parse_config(std::string(kListener), "/etc/postamt/postamt.toml");
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_TRUE(defaults->mailauth.send_reports);
  EXPECT_EQ(defaults->mailauth.report_hour, 1);
  EXPECT_EQ(defaults->mailauth.report_from, "");

  auto set = parse_config("[mailauth]\nsend_reports = false\nreport_hour = 23\nreport_from = \"dmarc@Example.test\"\n" +
                              std::string(kListener),
                          "/etc/postamt/postamt.toml");
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_FALSE(set->mailauth.send_reports);
  EXPECT_EQ(set->mailauth.report_hour, 23);
  EXPECT_EQ(set->mailauth.report_from, "dmarc@Example.test");
}

TEST(MailauthReportKeys, BadValuesAreNamed) {
  for (const std::string text : {"[mailauth]\nreport_hour = 24\n", "[mailauth]\nreport_from = \"no-at-sign\"\n",
                                 "[mailauth]\nreport_from = \"a b@example.test\"\n",
                                 "[mailauth]\nreport_from = \"x@not a domain\"\n"}) {
    auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().to_string().find("mailauth.report_"), std::string::npos) << result.error().to_string();
  }
}

}  // namespace
}  // namespace postamt::config
