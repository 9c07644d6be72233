// `postamt dmarc reports`: received report rows summed per source IP.
#include <gtest/gtest.h>

#include "server/dmarc_commands.hpp"

namespace postamt::server {
namespace {

storage::DmarcReceivedRow row(std::string reporter, std::string ip, std::uint64_t count, std::string disposition,
                              std::string dkim_aligned, std::string spf_aligned, std::string dkim_result,
                              std::string spf_result, std::string domain = "example.com") {
  storage::DmarcReceivedRow out;
  out.org_name = std::move(reporter);
  out.policy_domain = std::move(domain);
  out.row.source_ip = std::move(ip);
  out.row.count = count;
  out.row.disposition = std::move(disposition);
  out.row.dkim_aligned = std::move(dkim_aligned);
  out.row.spf_aligned = std::move(spf_aligned);
  if (!dkim_result.empty()) out.row.dkim.push_back({"example.com", "s", dkim_result});
  out.row.spf.push_back({"example.com", "mfrom", spf_result});
  return out;
}

TEST(DmarcSummary, SumsPerSourceAndPutsFailuresFirst) {
  const std::vector<storage::DmarcReceivedRow> rows = {
      row("google.com", "192.0.2.1", 100, "none", "pass", "pass", "pass", "pass"),
      row("Yahoo", "192.0.2.1", 20, "none", "pass", "fail", "pass", "softfail"),
      row("google.com", "203.0.113.9", 7, "reject", "fail", "fail", "", "fail"),
      row("google.com", "203.0.113.9", 3, "quarantine", "fail", "fail", "fail", "none"),
      row("google.com", "198.51.100.5", 1, "none", "fail", "fail", "", "fail", "example.net"),
  };
  const auto summaries = summarize_dmarc_rows(rows);
  ASSERT_EQ(summaries.size(), 3u);
  const auto& bad = summaries[0];
  EXPECT_EQ(bad.policy_domain, "example.com");
  EXPECT_EQ(bad.source_ip, "203.0.113.9") << "the sender that fails comes first";
  EXPECT_EQ(bad.messages, 10u);
  EXPECT_EQ(bad.aligned_fail, 10u);
  EXPECT_EQ(bad.dkim_fail, 10u);
  EXPECT_EQ(bad.spf_fail, 10u);
  EXPECT_EQ(bad.reject, 7u);
  EXPECT_EQ(bad.quarantine, 3u);
  const auto& good = summaries[1];
  EXPECT_EQ(good.source_ip, "192.0.2.1");
  EXPECT_EQ(good.messages, 120u);
  EXPECT_EQ(good.spf_pass, 100u);
  EXPECT_EQ(good.spf_fail, 20u);
  EXPECT_EQ(good.dkim_pass, 120u);
  EXPECT_EQ(good.aligned_pass, 120u);
  EXPECT_EQ(good.none, 120u);
  EXPECT_EQ(good.reporters, (std::vector<std::string>{"google.com", "Yahoo"}));
  EXPECT_EQ(summaries[2].policy_domain, "example.net");
}

}  // namespace
}  // namespace postamt::server
