#include "filter/pipeline.hpp"

#include <chrono>
#include <string>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "filter/decision.hpp"

namespace postamt::filter {
namespace {

metrics::Counter& verdict_counter(const std::string& filter, Action action) {
  return metrics::registry().counter("postamt_filter_verdicts_total", "Verdicts of the SMTP-time filters",
                                     {{"filter", filter}, {"action", std::string(action_name(action))}});
}

}  // namespace

Pipeline::Pipeline(std::vector<std::unique_ptr<Filter>> filters, std::size_t max_message_size)
    : filters_(std::move(filters)), max_message_size_(max_message_size) {
  // Each filter's verdicts at 0 from the start (alerts divide its failures by them).
  for (const auto& filter : filters_) {
    for (const auto action : {Action::accept, Action::junk, Action::defer, Action::reject}) {
      verdict_counter(filter->name(), action);
    }
  }
}

Pipeline::~Pipeline() = default;

bool Pipeline::reads_content() const {
  for (const auto& filter : filters_) {
    if (filter->reads_content()) return true;
  }
  return false;
}

asio::awaitable<std::vector<Verdict>> Pipeline::run(const MessageFacts& facts,
                                                    std::shared_ptr<const MessageContent> content) {
  std::vector<Verdict> verdicts;
  auto& registry = metrics::registry();
  for (const auto& filter : filters_) {
    const auto started = std::chrono::steady_clock::now();
    Verdict verdict;
    if (filter->reads_content() && content == nullptr) {
      verdict.filter = filter->name();
      verdict.skipped = true;
      verdict.note = "no message content";
    } else {
      verdict = co_await filter->check(facts, content);
      if (verdict.filter.empty()) verdict.filter = filter->name();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    registry
        .histogram("postamt_filter_seconds", "Time a filter took per message", metrics::latency_buckets(),
                   {{"filter", verdict.filter}})
        .observe(seconds);
    verdict_counter(verdict.filter, verdict.action).inc();
    const bool final = verdict.action == Action::reject || verdict.action == Action::defer;
    verdicts.push_back(std::move(verdict));
    if (final) break;
  }
  co_return verdicts;
}

}  // namespace postamt::filter
