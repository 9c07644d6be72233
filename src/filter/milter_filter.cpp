#include "filter/milter_filter.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/connect.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <functional>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "filter/decision.hpp"
#include "proto/smtp/reply.hpp"

namespace postamt::filter {
namespace {

namespace milter = proto::milter;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

metrics::Counter& failures(const std::string& filter, std::string_view reason) {
  return metrics::registry().counter("postamt_filter_failures_total",
                                     "SMTP-time filters that could not be asked (by filter and reason)",
                                     {{"filter", filter}, {"reason", std::string(reason)}});
}

void count_failure(const std::string& filter, std::string_view reason) { failures(filter, reason).inc(); }

// The clock of one conversation: each step gets `step` but never past `total`. On expiry
// the armed action runs (closing the socket, which ends the step with an error). A late
// timer handler of an earlier arm(), or one after destruction, does nothing.
class StepClock {
 public:
  StepClock(asio::any_io_executor executor, std::chrono::steady_clock::duration step,
            std::chrono::steady_clock::time_point total)
      : timer_(std::move(executor)), step_(step), total_(total), state_(std::make_shared<State>()) {}
  ~StepClock() { state_->alive = false; }
  StepClock(const StepClock&) = delete;
  StepClock& operator=(const StepClock&) = delete;

  void arm(std::function<void()> on_expiry) {
    const auto at = std::min(std::chrono::steady_clock::now() + step_, total_);
    timer_.expires_at(at);
    state_->expired = false;
    state_->on_expiry = std::move(on_expiry);
    const std::uint64_t generation = ++state_->generation;
    timer_.async_wait([state = state_, generation](const std::error_code& ec) {
      if (ec || !state->alive || state->generation != generation) return;
      state->expired = true;
      if (state->on_expiry) state->on_expiry();
    });
  }
  void disarm() {
    ++state_->generation;
    state_->on_expiry = nullptr;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool alive = true;
    bool expired = false;
    std::uint64_t generation = 0;
    std::function<void()> on_expiry;
  };
  asio::steady_timer timer_;
  std::chrono::steady_clock::duration step_;
  std::chrono::steady_clock::time_point total_;
  std::shared_ptr<State> state_;
};

struct Failure {
  std::string reason;  // the metric's label: connect, timeout, closed, io, protocol
  std::string error;
};

using Socket = asio::generic::stream_protocol::socket;

class MilterFilter final : public Filter {
 public:
  MilterFilter(MilterConfig config, MilterAddress address)
      : config_(std::move(config)), address_(std::move(address)), name_("milter:" + config_.name) {
    // Every reason at 0 from the start, so increase() sees the first failure.
    for (const auto reason : {"connect", "timeout", "closed", "io", "protocol"}) failures(name_, reason);
  }

  std::string name() const override { return name_; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent> content) override {
    if (content == nullptr || content->truncated) {
      Verdict verdict;
      verdict.filter = name_;
      verdict.skipped = true;
      verdict.note = "message larger than filter.max_message_size";
      co_return verdict;
    }
    auto executor = co_await asio::this_coro::executor;
    milter::Conversation conversation(milter_envelope(facts), content->bytes);
    StepClock clock(executor, config_.timeout, std::chrono::steady_clock::now() + 2 * config_.timeout);
    Socket socket(executor);
    std::optional<Failure> failure = co_await connect(socket, clock);
    if (!failure) failure = co_await talk(socket, clock, conversation);
    std::error_code ignored;
    socket.close(ignored);
    if (failure) co_return failed(facts, *failure);
    Verdict verdict = milter_verdict(name_, conversation.outcome());
    log::info("filter.milter", {{"id", facts.queue_id},
                                {"filter", name_},
                                {"action", std::string(action_name(verdict.action))},
                                {"stage", conversation.outcome().stage},
                                {"header_changes", std::to_string(verdict.header_changes.size())}});
    co_return verdict;
  }

 private:
  asio::awaitable<std::optional<Failure>> connect(Socket& socket, StepClock& clock) {
    auto close = [&socket] {
      std::error_code ignored;
      socket.close(ignored);
    };
    if (address_.kind == MilterAddress::Kind::unix_socket) {
      const asio::generic::stream_protocol::endpoint endpoint(asio::local::stream_protocol::endpoint(address_.path));
      clock.arm(close);
      auto [ec] = co_await socket.async_connect(endpoint, kUseTuple);
      clock.disarm();
      if (ec) co_return Failure{clock.expired() ? "timeout" : "connect", address_.path + ": " + ec.message()};
      co_return std::nullopt;
    }
    std::vector<asio::ip::tcp::endpoint> endpoints;
    std::error_code parse_error;
    const auto literal = asio::ip::make_address(address_.host, parse_error);
    if (!parse_error) {
      endpoints.emplace_back(literal, address_.port);
    } else {
      asio::ip::tcp::resolver resolver(socket.get_executor());
      clock.arm([&resolver] { resolver.cancel(); });
      auto [ec, results] = co_await resolver.async_resolve(address_.host, std::to_string(address_.port), kUseTuple);
      clock.disarm();
      if (ec) co_return Failure{clock.expired() ? "timeout" : "connect", address_.host + ": " + ec.message()};
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    std::string last = "no address";
    for (const auto& endpoint : endpoints) {
      clock.arm(close);
      auto [ec] = co_await socket.async_connect(asio::generic::stream_protocol::endpoint(endpoint), kUseTuple);
      clock.disarm();
      if (!ec) {
        if (endpoint.protocol() == asio::ip::tcp::v4() || endpoint.protocol() == asio::ip::tcp::v6()) {
          std::error_code ignored;  // milter round trips are small and synchronous: no Nagle delay
          socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        }
        co_return std::nullopt;
      }
      if (clock.expired()) co_return Failure{"timeout", address_.host + ": connect timed out"};
      last = endpoint.address().to_string() + " port " + std::to_string(endpoint.port()) + ": " + ec.message();
      std::error_code ignored;
      socket.close(ignored);
    }
    co_return Failure{"connect", last};
  }

  asio::awaitable<std::optional<Failure>> talk(Socket& socket, StepClock& clock, milter::Conversation& conversation) {
    auto close = [&socket] {
      std::error_code ignored;
      socket.close(ignored);
    };
    milter::PacketReader reader;
    std::array<char, 16 * 1024> buffer{};
    milter::Conversation::Step step{conversation.start(), false};
    while (true) {
      if (!step.send.empty()) {
        clock.arm(close);
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(step.send), kUseTuple);
        clock.disarm();
        if (ec && !step.done) co_return Failure{clock.expired() ? "timeout" : "io", "write: " + ec.message()};
      }
      if (step.done) co_return std::nullopt;  // QUIT sent (or not): the outcome is final
      std::optional<milter::Packet> packet;
      while (!packet) {
        auto next = reader.next();
        if (!next) co_return Failure{"protocol", next.error().message};
        if (*next) {
          packet = std::move(**next);
          break;
        }
        clock.arm(close);
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kUseTuple);
        clock.disarm();
        if (ec) {
          if (clock.expired()) co_return Failure{"timeout", "no answer in time"};
          if (ec == asio::error::eof) co_return Failure{"closed", "the milter closed the connection"};
          co_return Failure{"io", "read: " + ec.message()};
        }
        reader.feed(std::string_view(buffer.data(), n));
      }
      auto next_step = conversation.on_packet(*packet);
      if (!next_step) co_return Failure{"protocol", next_step.error().message};
      step = std::move(*next_step);
    }
  }

  Verdict failed(const MessageFacts& facts, const Failure& failure) const {
    count_failure(name_, failure.reason);
    log::warn("filter.milter_failed", {{"id", facts.queue_id},
                                       {"filter", name_},
                                       {"reason", failure.reason},
                                       {"error", failure.error},
                                       {"address", config_.address},
                                       {"fail_closed", config_.fail_closed ? "yes" : "no"}});
    Verdict verdict;
    verdict.filter = name_;
    verdict.failed = true;
    verdict.note = name_ + " unavailable: " + failure.reason;
    verdict.action = config_.fail_closed ? Action::defer : Action::accept;
    if (config_.fail_closed) {
      verdict.reply = proto::smtp::make_reply(451, "4.7.1", "Content filter unavailable, try again later");
    }
    return verdict;
  }

  MilterConfig config_;
  MilterAddress address_;
  std::string name_;
};

}  // namespace

std::optional<MilterAddress> parse_milter_address(std::string_view text) {
  MilterAddress address;
  if (text.starts_with("unix:")) {
    address.kind = MilterAddress::Kind::unix_socket;
    address.path = text.substr(5);
    if (address.path.empty() || address.path.front() != '/') return std::nullopt;
    return address;
  }
  std::string_view rest;
  if (text.starts_with("inet:")) rest = text.substr(5);
  else if (text.starts_with("inet6:")) rest = text.substr(6);
  else return std::nullopt;
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
  unsigned port = 0;
  for (const char c : rest.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned>(c - '0');
    if (port > 65535) return std::nullopt;
  }
  if (port == 0) return std::nullopt;
  std::string_view host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return std::nullopt;
  address.host = host;
  address.port = static_cast<std::uint16_t>(port);
  return address;
}

milter::Envelope milter_envelope(const MessageFacts& facts) {
  milter::Envelope e;
  e.our_hostname = facts.our_hostname;
  e.queue_id = facts.queue_id;
  e.client_address = facts.client_ip;
  e.client_port = facts.client_port;
  e.client_name = facts.client_hostname.empty() ? "[" + facts.client_ip + "]" : facts.client_hostname;
  e.family = facts.client_ip.empty()                               ? milter::Family::unknown
             : facts.client_ip.find(':') != std::string::npos ? milter::Family::ipv6
                                                              : milter::Family::ipv4;
  e.helo = facts.helo;
  e.auth_user = facts.user;
  e.sender = facts.mail_from;
  e.recipients = facts.recipients;
  return e;
}

Verdict milter_verdict(const std::string& filter_name, const milter::Outcome& outcome) {
  using V = milter::Outcome::Verdict;
  Verdict verdict;
  verdict.filter = filter_name;
  switch (outcome.verdict) {
    case V::accept:
      verdict.action = outcome.quarantine ? Action::junk : Action::accept;
      if (outcome.quarantine) {
        verdict.symbols.push_back("QUARANTINE");
        verdict.note = "quarantined: " + *outcome.quarantine;
      }
      for (const auto& edit : outcome.header_edits) {
        HeaderChange change;
        change.kind = edit.kind == milter::HeaderEdit::Kind::add      ? HeaderChange::Kind::add
                      : edit.kind == milter::HeaderEdit::Kind::insert ? HeaderChange::Kind::insert
                                                                      : HeaderChange::Kind::change;
        change.name = edit.name;
        change.value = edit.value;
        change.index = edit.index;
        change.verbatim = true;
        verdict.header_changes.push_back(std::move(change));
      }
      break;
    case V::reject:
      verdict.action = Action::reject;
      verdict.note = "rejected at " + outcome.stage;
      break;
    case V::discard:  // never dropped silently: refused, so the sender learns of it
      verdict.action = Action::reject;
      verdict.note = "discard at " + outcome.stage + " (refused instead)";
      break;
    case V::tempfail:
      verdict.action = Action::defer;
      verdict.note = "tempfail at " + outcome.stage;
      break;
    case V::reply_code:
      verdict.action = outcome.reply.code >= 500 ? Action::reject : Action::defer;
      verdict.reply = outcome.reply;
      verdict.note = "reply " + std::to_string(outcome.reply.code) + " at " + outcome.stage;
      break;
  }
  return verdict;
}

std::unique_ptr<Filter> make_milter_filter(const MilterConfig& config) {
  auto address = parse_milter_address(config.address);
  if (!address) return nullptr;  // the config check refuses such an address first
  return std::make_unique<MilterFilter>(config, std::move(*address));
}

}  // namespace postamt::filter
