#include "filter/rspamd_learner.hpp"

#include <chrono>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "filter/rspamd_reply.hpp"
#include "net/http_client.hpp"
#include "proto/http/url.hpp"

namespace postamt::filter {

namespace {

constexpr std::uint16_t kControllerPort = 11334;

class RspamdLearner final : public SpamLearner {
 public:
  RspamdLearner(const RspamdConfig& config, proto::http::Url controller)
      : password_(config.password), timeout_(config.timeout), controller_(std::move(controller)) {}

  std::string name() const override { return "rspamd"; }

  asio::awaitable<std::string> learn(std::string account, std::shared_ptr<const std::string> message,
                                     Lesson lesson) override {
    const std::string_view kind = lesson == Lesson::spam ? "spam" : "ham";
    net::HttpExchange exchange;
    exchange.url = controller_;
    exchange.request.method = "POST";
    exchange.request.target = (controller_.path.ends_with('/') ? controller_.path : controller_.path + "/") +
                              (lesson == Lesson::spam ? "learnspam" : "learnham");
    if (!password_.empty()) exchange.request.headers.push_back({"Password", password_});
    // rspamd's per-user statistics (when configured) key on Deliver-To.
    if (!account.empty() && account.find_first_of("\r\n") == std::string::npos) {
      exchange.request.headers.push_back({"Deliver-To", account});
    }
    exchange.request.body = message ? *message : std::string();
    exchange.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_);
    exchange.max_response_body = 64 * 1024;
    auto response = co_await net::http_exchange(std::move(exchange));
    std::string failure;
    std::string note;
    if (!response) {
      failure = std::string(net::http_failure_name(response.error().failure)) + ": " + response.error().message;
    } else {
      const RspamdLearnOutcome outcome = parse_rspamd_learn_reply(response->status, response->body);
      if (outcome.ok) {
        note = outcome.note;
      } else {
        failure = outcome.note;
      }
    }
    metrics::registry()
        .counter("postamt_spam_lessons_total", "Lessons from Junk moves given to a learner",
                 {{"learner", "rspamd"}, {"lesson", std::string(kind)}, {"result", failure.empty() ? "ok" : "failed"}})
        .inc();
    if (!failure.empty()) {
      log::warn("filter.rspamd_learn_failed", {{"account", account}, {"lesson", kind}, {"error", failure}});
      co_return failure;
    }
    log::info("filter.rspamd_learned",
              {{"account", account}, {"lesson", kind}, {"note", note.empty() ? std::string("learned") : note}});
    co_return std::string();
  }

 private:
  std::string password_;
  std::chrono::seconds timeout_;
  proto::http::Url controller_;
};

Result<proto::http::Url> controller_of(const RspamdConfig& config) {
  if (!config.controller_url.empty()) {
    auto url = proto::http::parse_url(config.controller_url);
    if (!url) return permanent_error("filter.rspamd.controller_url: " + url.error().message);
    return url;
  }
  auto url = proto::http::parse_url(config.url);
  if (!url) return permanent_error("filter.rspamd.url: " + url.error().message);
  url->port = kControllerPort;
  url->path = "/";
  return url;
}

}  // namespace

Result<std::string> rspamd_controller_url(const RspamdConfig& config) {
  auto url = controller_of(config);
  if (!url) return std::unexpected(url.error());
  return url->with(url->port, url->path);
}

Result<std::unique_ptr<SpamLearner>> make_rspamd_learner(const RspamdConfig& config) {
  auto url = controller_of(config);
  if (!url) return std::unexpected(url.error());
  return std::make_unique<RspamdLearner>(config, std::move(*url));
}

}  // namespace postamt::filter
