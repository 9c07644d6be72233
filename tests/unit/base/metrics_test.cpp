#include "base/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace postamt::metrics {
namespace {

TEST(Metrics, RendersCountersAndGaugesWithLabels) {
  Registry registry;
  registry.counter("mail_total", "Mail seen", {{"result", "ok"}}).inc(3);
  registry.counter("mail_total", "Mail seen", {{"result", "bad\"one"}}).inc();
  registry.gauge("open", "Open things").set(-2);
  const std::string text = registry.render_prometheus();
  EXPECT_NE(text.find("# HELP mail_total Mail seen\n# TYPE mail_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("mail_total{result=\"ok\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("mail_total{result=\"bad\\\"one\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE open gauge\nopen -2\n"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsTheSameMetric) {
  Registry registry;
  auto& a = registry.counter("x_total", "x", {{"k", "v"}});
  auto& b = registry.counter("x_total", "x", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(registry.gauge("x_total", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("bad name", "x"), std::invalid_argument);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry registry;
  auto& h = registry.histogram("latency_seconds", "Latency", {0.1, 1.0});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const std::string text = registry.render_prometheus();
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"0.10000000000000001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum 5.5499999999999998\n"), std::string::npos) << text;
}

TEST(Metrics, CountersAreThreadSafe) {
  Registry registry;
  auto& counter = registry.counter("hits_total", "hits");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) counter.inc();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40000u);
}

}  // namespace
}  // namespace postamt::metrics
