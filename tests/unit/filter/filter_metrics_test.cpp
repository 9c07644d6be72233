// The filters' counters exist at 0 from the moment a filter is configured, so an alert on
// increase() (docs/alerts.yml) sees the first failure of an rspamd or milter.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/metrics.hpp"
#include "filter/milter_filter.hpp"
#include "filter/pipeline.hpp"
#include "filter/rspamd_filter.hpp"

namespace postamt::filter {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.starts_with(line + "\n") || text.find("\n" + line + "\n") != std::string::npos;
}

TEST(FilterMetrics, FailuresAndVerdictsStartAtZero) {
  RspamdConfig rspamd;
  rspamd.url = "http://127.0.0.1:11333";
  auto made = make_rspamd_filter(rspamd, 1024 * 1024);
  ASSERT_TRUE(made) << made.error().message;
  MilterConfig milter;
  milter.name = "zerocheck";
  milter.address = "inet:127.0.0.1:8891";
  std::vector<std::unique_ptr<Filter>> filters;
  filters.push_back(std::move(*made));
  filters.push_back(make_milter_filter(milter));
  ASSERT_NE(filters.back(), nullptr);
  const Pipeline pipeline(std::move(filters), 1024 * 1024);

  const std::string text = metrics::registry().render_prometheus();
  for (const char* reason : {"timeout", "connect", "io", "protocol", "status", "bad_reply"}) {
    EXPECT_TRUE(has_line(text, std::string("postamt_filter_failures_total{filter=\"rspamd\",reason=\"") + reason +
                                   "\"} 0"))
        << reason << "\n" << text;
  }
  for (const char* reason : {"connect", "timeout", "closed", "io", "protocol"}) {
    EXPECT_TRUE(has_line(text, std::string("postamt_filter_failures_total{filter=\"milter:zerocheck\",reason=\"") +
                                   reason + "\"} 0"))
        << reason << "\n" << text;
  }
  for (const char* filter : {"rspamd", "milter:zerocheck"}) {
    for (const char* action : {"accept", "junk", "defer", "reject"}) {
      EXPECT_TRUE(has_line(text, std::string("postamt_filter_verdicts_total{filter=\"") + filter + "\",action=\"" +
                                     action + "\"} 0"))
          << filter << " " << action << "\n" << text;
    }
  }
}

}  // namespace
}  // namespace postamt::filter
