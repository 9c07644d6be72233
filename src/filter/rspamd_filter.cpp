#include "filter/rspamd_filter.hpp"

#include <chrono>
#include <string>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "filter/rspamd_reply.hpp"
#include "net/http_client.hpp"
#include "proto/http/url.hpp"

namespace postamt::filter {

namespace {

constexpr std::size_t kMaxReplySize = 1024 * 1024;  // a /checkv2 reply is a few KiB

metrics::Counter& failures(std::string_view reason) {
  return metrics::registry().counter("postamt_filter_failures_total",
                                     "SMTP-time filters that could not be asked (by filter and reason)",
                                     {{"filter", "rspamd"}, {"reason", std::string(reason)}});
}

void count_failure(std::string_view reason) { failures(reason).inc(); }

class RspamdFilter final : public Filter {
 public:
  RspamdFilter(const RspamdConfig& config, proto::http::Url url, std::size_t max_message_size)
      : config_(config), url_(std::move(url)), max_message_size_(max_message_size) {
    // Every reason at 0 from the start: an alert on increase() sees the first failure
    // (a series born at 1 has no earlier sample to rise from).
    for (const auto reason : {"timeout", "connect", "io", "protocol", "status", "bad_reply"}) failures(reason);
  }

  std::string name() const override { return "rspamd"; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent> content) override {
    Verdict verdict;
    verdict.filter = "rspamd";
    if (content == nullptr || content->truncated || content->bytes.size() > max_message_size_) {
      verdict.skipped = true;
      verdict.note = "message larger than filter.max_message_size";
      co_return verdict;
    }
    net::HttpExchange exchange;
    exchange.url = url_;
    exchange.request.method = "POST";
    exchange.request.target = join_path(url_.path, "checkv2");
    exchange.request.headers = rspamd_request_headers(facts);
    exchange.request.body = content->bytes;
    exchange.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config_.timeout);
    exchange.max_response_body = kMaxReplySize;
    auto response = co_await net::http_exchange(std::move(exchange));
    if (!response) {
      co_return failed(facts, std::string(net::http_failure_name(response.error().failure)), response.error().message);
    }
    if (response->status != 200) {
      co_return failed(facts, "status", "HTTP status " + std::to_string(response->status) + " " + response->reason);
    }
    auto reply = parse_rspamd_reply(response->body);
    if (!reply) co_return failed(facts, "bad_reply", reply.error().message);
    co_return rspamd_verdict(*reply);
  }

 private:
  static std::string join_path(const std::string& base, std::string_view leaf) {
    return (base.ends_with('/') ? base : base + "/") + std::string(leaf);
  }

  Verdict failed(const MessageFacts& facts, const std::string& reason, const std::string& error) const {
    count_failure(reason);
    log::warn("filter.rspamd_failed", {{"id", facts.queue_id},
                                       {"reason", reason},
                                       {"error", error},
                                       {"url", url_.with(url_.port, url_.path)},
                                       {"fail_closed", config_.fail_closed ? "yes" : "no"}});
    Verdict verdict;
    verdict.filter = "rspamd";
    verdict.failed = true;
    verdict.note = "rspamd unavailable: " + reason;
    verdict.action = config_.fail_closed ? Action::defer : Action::accept;
    if (config_.fail_closed) {
      verdict.reply = proto::smtp::make_reply(451, "4.7.1", "Content filter unavailable, try again later");
    }
    return verdict;
  }

  RspamdConfig config_;
  proto::http::Url url_;
  std::size_t max_message_size_;
};

}  // namespace

std::vector<proto::http::Header> rspamd_request_headers(const MessageFacts& facts) {
  std::vector<proto::http::Header> headers;
  auto add = [&headers](std::string name, const std::string& value) {
    // Request headers are one line each; the session's values never hold CR or LF, but
    // a value that did would be dropped rather than break the request.
    if (value.find_first_of("\r\n") == std::string::npos) headers.push_back({std::move(name), value});
  };
  if (!facts.client_ip.empty()) add("IP", facts.client_ip);
  if (!facts.helo.empty()) add("Helo", facts.helo);
  if (!facts.client_hostname.empty()) add("Hostname", facts.client_hostname);
  add("From", facts.mail_from.empty() ? std::string("<>") : facts.mail_from);
  for (const auto& rcpt : facts.recipients) add("Rcpt", rcpt);
  if (!facts.queue_id.empty()) add("Queue-Id", facts.queue_id);
  if (!facts.user.empty()) add("User", facts.user);
  if (!facts.our_hostname.empty()) add("MTA-Name", facts.our_hostname);
  return headers;
}

Result<std::unique_ptr<Filter>> make_rspamd_filter(const RspamdConfig& config, std::size_t max_message_size) {
  auto url = proto::http::parse_url(config.url);
  if (!url) return permanent_error("filter.rspamd.url: " + url.error().message);
  return std::make_unique<RspamdFilter>(config, std::move(*url), max_message_size);
}

}  // namespace postamt::filter
