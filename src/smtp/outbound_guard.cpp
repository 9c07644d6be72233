#include "smtp/outbound_guard.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <ctime>
#include <mutex>
#include <set>

#include "auth/address.hpp"
#include "base/log.hpp"
#include "security/security_event.hpp"
#include "base/metrics.hpp"
#include "delivery/group_committer.hpp"
#include "delivery/message_preparer.hpp"
#include "delivery/recipient_resolver.hpp"
#include "delivery/trace_headers.hpp"
#include "net/blocking_pool.hpp"
#include "security/account_hold_notice.hpp"
#include "security/login_networks.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::smtp {
namespace {

using proto::smtp::make_reply;
using proto::smtp::Reply;

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
// How often the server re-reads the holds (a release by the CLI takes effect within this).
constexpr auto kHoldPoll = std::chrono::seconds(2);
constexpr int kBounceCheckEvery = 30;   // polls: a minute
constexpr int kPruneEvery = 1800;       // polls: an hour

storage::UnixTime now_seconds() { return static_cast<storage::UnixTime>(std::time(nullptr)); }

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

metrics::Gauge& holds_active() {
  static metrics::Gauge& gauge =
      metrics::registry().gauge("postamt_security_holds_active", "Accounts whose outbound mail is on hold");
  return gauge;
}

metrics::Counter& holds_total(std::string_view reason) {
  return metrics::registry().counter("postamt_security_holds_total", "Accounts put on hold, by reason",
                                     {{"reason", std::string(reason)}});
}

}  // namespace

class OutboundGuard::Impl : public std::enable_shared_from_this<Impl> {
 public:
  explicit Impl(OutboundGuardDependencies deps)
      : deps_(deps),
        config_(deps.config.outbound_limits),
        logins_(security::LoginNetworks::Options{config_.login_networks, config_.login_window, config_.login_prefix_v4,
                                                 config_.login_prefix_v6}) {
    holds_active();
    // Every reason at 0 from the start, so an alert on increase() sees the first hold.
    for (auto reason = static_cast<int>(security::BreachReason::messages_per_hour);
         reason <= static_cast<int>(security::BreachReason::logins); ++reason) {
      holds_total(security::breach_key(static_cast<security::BreachReason>(reason)));
    }
  }

  std::string postmaster() const {
    return config_.notify.empty() ? "postmaster@" + deps_.config.server.hostname : config_.notify;
  }

  Reply held_reply(const storage::AccountHold& hold) const {
    return make_reply(451, "4.7.1", security::hold_refusal_text(hold, postmaster()));
  }

  // The refusal for a breach: a hold, or (hold_on_breach = false) this submission only.
  Reply breach_reply(const std::string& account, const security::Breach& breach, std::string_view trigger) {
    if (config_.hold_on_breach) {
      hold_blocking(account, breach, trigger);
      storage::AccountHold hold{account, std::string(security::breach_key(breach.reason)), breach.detail, now_seconds(), 0};
      if (auto stored = deps_.store.find_account_hold(account); stored && *stored) hold = **stored;
      return held_reply(hold);
    }
    log::info("security.limit", {{"account", account},
                                 {"reason", security::breach_key(breach.reason)},
                                 {"detail", breach.detail},
                                 {"trigger", trigger}});
    return make_reply(451, "4.7.1", "Sending limit reached for this account: " + breach.detail + ", try again later");
  }

  // Blocking: the decision at MAIL FROM.
  std::optional<Reply> check_mail_blocking(const std::string& account, OutboundTally& tally) {
    auto hold = deps_.store.find_account_hold(account);
    if (!hold) return make_reply(451, "4.3.0", "Temporary failure checking the sending limits, try again later");
    if (*hold) return held_reply(**hold);
    // Off: nothing is counted and no new hold is made; an existing hold still applies.
    if (!config_.enabled) return std::nullopt;
    const storage::UnixTime now = now_seconds();
    auto hours = deps_.store.outbound_hours(account, now - security::kHistorySeconds);
    if (!hours) return make_reply(451, "4.3.0", "Temporary failure checking the sending limits, try again later");
    tally.activity = security::summarize(*hours, now);
    const auto& limits = security::limits_for(config_, lower_ascii(account));
    if (auto breach = security::check_message(*tally.activity, limits, config_)) {
      return breach_reply(account, *breach, "smtp");
    }
    if (auto breach = security::check_bounces(*tally.activity, config_)) {
      return breach_reply(account, *breach, "smtp");
    }
    return std::nullopt;
  }

  std::optional<Reply> check_rcpt_blocking(const std::string& account, const std::string& recipient,
                                           OutboundTally& tally) {
    if (!tally.activity) return std::nullopt;  // MAIL FROM did not count (limits off)
    const std::string one[] = {recipient};
    auto fresh = deps_.store.new_correspondents(account, one);
    if (!fresh) return make_reply(451, "4.3.0", "Temporary failure checking the sending limits, try again later");
    const std::uint64_t recipients = tally.recipients + 1;
    const std::uint64_t new_recipients = tally.new_recipients + (fresh->empty() ? 0 : 1);
    const auto& limits = security::limits_for(config_, lower_ascii(account));
    if (auto breach = security::check_recipients(*tally.activity, limits, recipients, new_recipients)) {
      return breach_reply(account, *breach, "smtp");
    }
    tally.recipients = recipients;
    tally.new_recipients = new_recipients;
    return std::nullopt;
  }

  bool hold_blocking(const std::string& account, const security::Breach& breach, std::string_view trigger) {
    storage::AccountHold hold{account, std::string(security::breach_key(breach.reason)), breach.detail, now_seconds(), 0};
    auto added = deps_.store.hold_account(hold);
    if (!added) {
      log::error("security.hold_failed", {{"account", account}, {"error", added.error().message}});
      return false;
    }
    if (!*added) return false;
    {
      // Known at once, so a release before the next poll is noticed too.
      std::lock_guard lock(held_mutex_);
      held_.insert(lower_ascii(account));
    }
    holds_total(hold.reason).inc();
    holds_active().add(1);
    // Issue 15 §8: the log line "security.hold account=… reason=… detail=… trigger=…
    // notify=…", the event row and the counter.
    security::SecurityEvent event;
    event.kind = security::EventKind::hold;
    event.account = account;
    event.fields = {{"reason", hold.reason}, {"detail", hold.detail}, {"trigger", std::string(trigger)},
                    {"notify", postmaster()}};
    security::emit(std::move(event));
    send_notice(hold, account, false);
    send_notice(hold, postmaster(), true);
    return true;
  }

  void send_notice(const storage::AccountHold& hold, const std::string& to, bool to_postmaster) {
    const storage::UnixTime now = now_seconds();
    const std::string id = "hold-" + std::to_string(now) + "-" + std::to_string(++notice_serial_);
    security::HoldNoticeInput input;
    input.hostname = deps_.config.server.hostname;
    input.from = postmaster();
    input.to = to;
    input.to_postmaster = to_postmaster;
    input.hold = hold;
    input.limits = security::limits_for(config_, lower_ascii(hold.account));
    input.config = &config_;
    input.date = delivery::rfc5322_date(static_cast<std::time_t>(now));
    input.message_id = id + "@" + deps_.config.server.hostname;
    if (auto failed = deliver(security::compose_hold_notice(input), to, id, now)) {
      log::error("security.notice_failed", {{"account", hold.account}, {"to", to}, {"error", *failed}});
      return;
    }
    log::info("security.notice_sent", {{"account", hold.account}, {"to", to}});
  }

  // Local delivery (or, for a remote postmaster, the queue) from the null sender, as the
  // queue's delivery notices do: a notice is never answered by a notice. Returns the
  // error, if any.
  std::optional<std::string> deliver(std::string text, const std::string& to, const std::string& id, storage::UnixTime now) {
    auto address = auth::normalize_address(to);
    if (!address) return "bad address: " + to;
    delivery::RecipientResolver resolver(deps_.store);
    auto resolution = resolver.resolve(*address);
    if (!resolution) return resolution.error().message;
    using Kind = delivery::Resolution::Kind;
    if (resolution->kind == Kind::unknown_user || resolution->kind == Kind::loop) return std::string("no such user");
    delivery::IncomingMessage notice;
    notice.reverse_path = "";
    notice.received_at = static_cast<std::time_t>(now);
    notice.content = "Return-Path: <>\r\nReceived: by " + deps_.config.server.hostname + " (Postamt) id " + id +
                     ";\r\n\t" + delivery::rfc5322_date(static_cast<std::time_t>(now)) + "\r\n" + text;
    notice.recipients.push_back(delivery::IncomingRecipient{*address, std::move(*resolution), "", "", ""});
    delivery::MessagePreparer preparer(deps_.store, deps_.blobs, deps_.committer.blob_durability());
    auto item = preparer.prepare(notice);
    if (!item) return item.error().message;
    auto committed = deps_.committer.commit_blocking(std::move(*item));
    if (!committed) return committed.error().message;
    return std::nullopt;
  }

  void count_blocking(const std::string& account, std::vector<std::string> recipients) {
    storage::OutboundSubmission submission{account, now_seconds(), std::move(recipients), config_.known_recipients};
    if (auto counted = deps_.store.record_submission(submission); !counted) {
      log::warn("security.count_failed", {{"account", account}, {"error", counted.error().message}});
    }
  }

  void login_succeeded(std::string_view account, std::string_view client_ip) {
    std::optional<std::vector<std::string>> networks;
    {
      std::lock_guard lock(logins_mutex_);
      networks = logins_.record(lower_ascii(account), client_ip, security::LoginNetworks::Clock::now());
    }
    if (!networks || !executor_) return;
    std::string list;
    for (const auto& network : *networks) list += (list.empty() ? "" : " ") + network;
    security::Breach breach{security::BreachReason::logins,
                            std::to_string(networks->size()) + " networks within " +
                                std::to_string(config_.login_window.count() / 60) + " minutes (at most " +
                                std::to_string(config_.login_networks) + "): " + list};
    asio::co_spawn(*executor_, hold_in_background(shared_from_this(), std::string(account), std::move(breach)),
                   asio::detached);
  }

  static asio::awaitable<void> hold_in_background(std::shared_ptr<Impl> self, std::string account,
                                                  security::Breach breach) {
    if (!self->config_.hold_on_breach) {
      log::info("security.limit", {{"account", account}, {"reason", "logins"}, {"detail", breach.detail}, {"trigger", "login"}});
      co_return;
    }
    co_await self->deps_.pool.run([&] { return self->hold_blocking(account, breach, "login"); });
  }

  void start(asio::any_io_executor executor, std::function<void()> on_released) {
    executor_ = executor;
    on_released_ = std::move(on_released);
    asio::co_spawn(executor, watch(shared_from_this()), asio::detached);
  }

  void stop() {
    stopping_ = true;
    if (!executor_) return;
    asio::post(*executor_, [self = shared_from_this()] {
      if (self->timer_) self->timer_->cancel();
    });
  }

  static asio::awaitable<void> watch(std::shared_ptr<Impl> self) {
    self->timer_.emplace(*self->executor_);
    for (int round = 0; !self->stopping_; ++round) {
      co_await self->poll(round);
      self->timer_->expires_after(kHoldPoll);
      co_await self->timer_->async_wait(kUseTuple);
    }
  }

  asio::awaitable<void> poll(int round) {
    auto holds = co_await deps_.pool.run([&] { return deps_.store.list_account_holds(); });
    if (!holds) co_return;
    std::set<std::string> now_held;
    for (const auto& hold : *holds) now_held.insert(lower_ascii(hold.account));
    holds_active().set(static_cast<std::int64_t>(now_held.size()));
    std::vector<std::string> released_accounts;
    {
      std::lock_guard lock(held_mutex_);
      for (const auto& account : held_) {
        if (!now_held.contains(account)) released_accounts.push_back(account);
      }
      held_ = std::move(now_held);
    }
    const bool released = !released_accounts.empty();
    for (const auto& account : released_accounts) {
      log::info("security.hold_released", {{"account", account}});
      security::SecurityEvent event;  // the release itself was the CLI's (another process)
      event.kind = security::EventKind::release;
      event.account = account;
      security::emit(std::move(event));
      std::lock_guard lock(logins_mutex_);
      logins_.forget(account);
    }
    if (released && on_released_) on_released_();
    if (round % kBounceCheckEvery == 0 && config_.enabled && config_.bounce_percent > 0 && config_.hold_on_breach) {
      co_await deps_.pool.run([&] {
        check_bounces_blocking();
        return true;
      });
    }
    if (round % kPruneEvery == 0) {
      co_await deps_.pool.run([&] { return deps_.store.prune_outbound_hours(now_seconds() - security::kHistorySeconds); });
    }
  }

  void check_bounces_blocking() {
    const storage::UnixTime now = now_seconds();
    auto accounts = deps_.store.accounts_with_bounces(now - 24 * 3600);
    if (!accounts) return;
    for (const auto& account : *accounts) {
      {
        std::lock_guard lock(held_mutex_);
        if (held_.contains(lower_ascii(account))) continue;
      }
      auto hours = deps_.store.outbound_hours(account, now - security::kHistorySeconds);
      if (!hours) continue;
      if (auto breach = security::check_bounces(security::summarize(*hours, now), config_)) {
        hold_blocking(account, *breach, "bounces");
      }
    }
  }

  OutboundGuardDependencies deps_;
  const OutboundLimitsConfig& config_;
  std::mutex logins_mutex_;
  security::LoginNetworks logins_;
  std::atomic<std::uint64_t> notice_serial_{0};
  std::optional<asio::any_io_executor> executor_;
  std::optional<asio::steady_timer> timer_;
  std::function<void()> on_released_;
  std::mutex held_mutex_;
  std::set<std::string> held_;  // lower-cased: as last read, and those held since
  std::atomic<bool> stopping_{false};
};

OutboundGuard::OutboundGuard(OutboundGuardDependencies dependencies)
    : impl_(std::make_shared<Impl>(dependencies)) {}

OutboundGuard::~OutboundGuard() { impl_->stopping_ = true; }

asio::awaitable<std::optional<Reply>> OutboundGuard::check_mail(std::string account, OutboundTally& tally) {
  tally = OutboundTally{};
  co_return co_await impl_->deps_.pool.run([&] { return impl_->check_mail_blocking(account, tally); });
}

asio::awaitable<std::optional<Reply>> OutboundGuard::check_rcpt(std::string account, std::string recipient,
                                                                OutboundTally& tally) {
  if (!impl_->deps_.config.outbound_limits.enabled) co_return std::nullopt;
  co_return co_await impl_->deps_.pool.run([&] { return impl_->check_rcpt_blocking(account, recipient, tally); });
}

asio::awaitable<void> OutboundGuard::count_accepted(std::string account, std::vector<std::string> recipients) {
  if (!impl_->deps_.config.outbound_limits.enabled) co_return;
  co_await impl_->deps_.pool.run([&] {
    impl_->count_blocking(account, std::move(recipients));
    return true;
  });
}

void OutboundGuard::login_succeeded(std::string_view account, std::string_view client_ip) {
  if (!impl_->deps_.config.outbound_limits.enabled) return;
  impl_->login_succeeded(account, client_ip);
}

void OutboundGuard::start(asio::any_io_executor executor, std::function<void()> on_released) {
  impl_->start(std::move(executor), std::move(on_released));
}

void OutboundGuard::stop() { impl_->stop(); }

bool OutboundGuard::hold_blocking(const std::string& account, const security::Breach& breach,
                                  std::string_view trigger) {
  return impl_->hold_blocking(account, breach, trigger);
}

}  // namespace postamt::smtp
