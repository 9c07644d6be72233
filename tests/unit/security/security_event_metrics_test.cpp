// postamt_security_events_total has a series for every kind once the server exports them,
// before any event: docs/alerts.yml alerts on increase() of kind="ban", and a series born
// at 1 would hide the first ban.
#include <gtest/gtest.h>

#include <string>

#include "base/metrics.hpp"
#include "security/security_event.hpp"

namespace postamt::security {
namespace {

TEST(SecurityEventMetrics, EveryKindIsExported) {
  export_event_counters();
  const std::string text = metrics::registry().render_prometheus();
  ASSERT_FALSE(kind_names().empty());
  for (const auto kind : kind_names()) {
    const std::string series = "\npostamt_security_events_total{kind=\"" + std::string(kind) + "\"} ";
    EXPECT_NE(text.find(series), std::string::npos) << kind << "\n" << text;
  }
}

}  // namespace
}  // namespace postamt::security
