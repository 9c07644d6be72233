#include "filter/client_rate.hpp"

#include <fmt/format.h>

#include <numeric>

#include "net/ip_network.hpp"

namespace postamt::filter {

bool ClientRate::admit(std::string_view client_ip, Clock::time_point now) {
  if (per_hour_ == 0) return true;
  const std::int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  const std::string key = net::client_network_key(client_ip);
  std::lock_guard lock(mutex_);
  auto found = clients_.find(key);
  if (found == clients_.end()) {
    if (clients_.size() >= max_clients_) {
      clients_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(key);
    found = clients_.emplace(key, Client{}).first;
    found->second.minute = minute;
    found->second.recent = recency_.begin();
  } else {
    recency_.splice(recency_.begin(), recency_, found->second.recent);
  }
  Client& client = found->second;
  // Buckets of minutes that have passed since the newest one are cleared.
  const std::int64_t passed = std::min<std::int64_t>(minute - client.minute, kBuckets);
  for (std::int64_t i = 1; i <= passed; ++i) client.counts[static_cast<std::size_t>((client.minute + i) % kBuckets)] = 0;
  if (minute > client.minute) client.minute = minute;
  const std::uint64_t in_hour = std::accumulate(client.counts.begin(), client.counts.end(), std::uint64_t{0});
  if (in_hour >= per_hour_) return false;
  ++client.counts[static_cast<std::size_t>(client.minute % kBuckets)];
  return true;
}

std::size_t ClientRate::clients() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

namespace {

class ClientRateFilter final : public Filter {
 public:
  explicit ClientRateFilter(std::shared_ptr<ClientRate> rate) : rate_(std::move(rate)) {}
  std::string name() const override { return "rate"; }
  bool reads_content() const override { return false; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent>) override {
    Verdict verdict;
    verdict.filter = "rate";
    if (!rate_->admit(facts.client_ip, ClientRate::Clock::now())) {
      verdict.action = Action::defer;
      verdict.symbols.emplace_back("CLIENT_RATE");
      verdict.reply = proto::smtp::make_reply(451, "4.7.1", "Too many messages from your address, try again later");
    }
    co_return verdict;
  }

 private:
  std::shared_ptr<ClientRate> rate_;
};

}  // namespace

std::unique_ptr<Filter> make_client_rate_filter(std::shared_ptr<ClientRate> rate) {
  return std::make_unique<ClientRateFilter>(std::move(rate));
}

}  // namespace postamt::filter
