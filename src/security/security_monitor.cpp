#include "security/security_monitor.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "net/blocking_pool.hpp"
#include "security/ban_tracker.hpp"
#include "security/login_networks.hpp"
#include "security/security_event.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::security {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxQueued = 10'000;
constexpr std::size_t kMaxNetworksPerAccount = 32;
constexpr std::size_t kMaxAccounts = 100'000;
constexpr std::int64_t kBanMemory = 30 * 86400;  // ended bans kept for escalation

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

metrics::Gauge& bans_active() {
  static metrics::Gauge& gauge =
      metrics::registry().gauge("postamt_security_bans_active", "Addresses and networks banned now");
  return gauge;
}

metrics::Counter& events_dropped() {
  static metrics::Counter& counter = metrics::registry().counter(
      "postamt_security_events_dropped_total", "Security events not stored (the queue to the store was full)");
  return counter;
}

BanPolicy ban_policy(const SecurityConfig& config, std::vector<std::string> trusted) {
  BanPolicy policy;
  policy.enabled = config.bans;
  policy.auth_failures = config.ban_auth_failures;
  policy.recipient_probes = config.ban_recipient_probes;
  policy.protocol_errors = config.ban_protocol_errors;
  policy.window = config.window.count();
  policy.ban_duration = config.ban_duration.count();
  policy.max_ban_duration = config.max_ban_duration.count();
  policy.prefix_v4 = config.prefix_v4;
  policy.prefix_v6 = config.prefix_v6;
  policy.prefix_factor = config.prefix_factor;
  policy.trusted_networks = std::move(trusted);
  return policy;
}

std::optional<BanReason> offence_of(EventKind kind) {
  switch (kind) {
    case EventKind::auth_failure: return BanReason::auth_failures;
    case EventKind::recipient_probe: return BanReason::recipient_probe;
    case EventKind::protocol_abuse: return BanReason::protocol_abuse;
    default: return std::nullopt;
  }
}

}  // namespace

struct SecurityMonitor::Impl : std::enable_shared_from_this<Impl> {
  Impl(const SecurityConfig& config, std::vector<std::string> trusted, storage::MailStore& store,
       net::BlockingPool& pool)
      : config(config), store(store), pool(pool), tracker(ban_policy(config, std::move(trusted))) {}

  const SecurityConfig config;
  storage::MailStore& store;
  net::BlockingPool& pool;
  BanTracker tracker;

  std::mutex mutex;  // the queues and the login networks
  std::vector<storage::SecurityEventRow> events;
  std::vector<storage::BanRow> bans;
  std::unordered_map<std::string, std::vector<std::string>> networks;  // account -> networks seen

  std::mutex store_mutex;  // one writer/poller at a time: a poll never undoes a newer ban
  std::optional<asio::steady_timer> timer;
  std::optional<asio::any_io_executor> executor;
  std::atomic<bool> stopping{false};

  void observe(const SecurityEvent& event) {
    storage::SecurityEventRow row{0, event.at, std::string(kind_name(event.kind)), event.ip, event.account,
                                  event.protocol, fields_json(event)};
    {
      std::lock_guard lock(mutex);
      if (events.size() < kMaxQueued) {
        events.push_back(std::move(row));
      } else {
        events_dropped().inc();
      }
    }
    const auto reason = offence_of(event.kind);
    if (!reason || event.ip.empty()) return;
    for (auto& ban : tracker.record(event.ip, *reason, event.distinct, event.at)) {
      SecurityEvent announced;
      announced.kind = EventKind::ban;
      announced.at = ban.banned_at;
      announced.ip = ban.target;
      announced.protocol = event.protocol;
      announced.fields = {{"reason", ban.reason},
                          {"detail", ban.detail},
                          {"seconds", std::to_string(ban.until - ban.banned_at)},
                          {"offences", std::to_string(ban.offences)},
                          {"trigger_ip", event.ip}};
      {
        std::lock_guard lock(mutex);
        bans.push_back(std::move(ban));
      }
      emit(std::move(announced));  // comes back here as a `ban` event, no offence
    }
  }

  void login(std::string_view account, std::string_view ip, std::string_view protocol) {
    const auto network = network_of(ip, config.prefix_v4, config.prefix_v6);
    if (!network || account.empty()) return;
    bool is_new = false;
    {
      std::lock_guard lock(mutex);
      if (networks.size() >= kMaxAccounts && !networks.contains(std::string(account))) networks.clear();
      auto& seen = networks[std::string(account)];
      if (std::ranges::find(seen, *network) != seen.end()) return;
      is_new = !seen.empty();
      if (seen.size() >= kMaxNetworksPerAccount) seen.erase(seen.begin());
      seen.push_back(*network);
    }
    if (!is_new) return;
    SecurityEvent event;
    event.kind = EventKind::login_new_network;
    event.ip = std::string(ip);
    event.account = std::string(account);
    event.protocol = std::string(protocol);
    event.fields = {{"network", *network}};
    emit(std::move(event));
  }

  // Blocking (the pool, or the caller at start/stop): queued events and bans to the store,
  // then the active bans read back.
  void sync(bool poll, bool prune) {
    std::lock_guard store_lock(store_mutex);
    std::vector<storage::SecurityEventRow> batch;
    std::vector<storage::BanRow> new_bans;
    {
      std::lock_guard lock(mutex);
      batch.swap(events);
      new_bans.swap(bans);
    }
    for (const auto& ban : new_bans) {
      if (auto put = store.put_ban(ban); !put) log::error("security.ban_store_failed", {{"error", put.error().message}});
    }
    if (!batch.empty()) {
      if (auto added = store.add_security_events(batch); !added) {
        log::error("security.events_store_failed", {{"events", batch.size()}, {"error", added.error().message}});
      }
    }
    const std::int64_t now = unix_now();
    if (prune) {
      const std::int64_t retention = static_cast<std::int64_t>(config.events_retention_days) * 86400;
      if (auto pruned = store.prune_security_events(now - retention, config.events_max_rows); pruned && *pruned > 0) {
        log::info("security.events_pruned", {{"rows", *pruned}});
      }
      (void)store.prune_bans(now - kBanMemory);
    }
    if (!poll) return;
    auto active = store.list_bans(now);
    if (!active) {
      log::warn("security.bans_read_failed", {{"error", active.error().message}});
      return;
    }
    {
      std::lock_guard lock(mutex);  // bans found since the batch above are not stored yet
      active->insert(active->end(), bans.begin(), bans.end());
    }
    tracker.replace_active(*active);
    bans_active().set(static_cast<std::int64_t>(tracker.active(now)));
  }

  void load() {
    const std::int64_t now = unix_now();
    if (auto history = store.list_bans(now - kBanMemory)) tracker.remember_offences(*history);
    sync(true, true);
  }

  static asio::awaitable<void> watch(std::shared_ptr<Impl> self) {
    self->timer.emplace(*self->executor);
    for (unsigned round = 1; !self->stopping; ++round) {
      self->timer->expires_after(std::chrono::seconds(1));
      co_await self->timer->async_wait(kUseTuple);
      if (self->stopping) break;
      const bool poll = round % 2 == 0;
      const bool prune = round % 3600 == 0;
      Impl* impl = self.get();  // kept alive by `self`; no shared_ptr copy in the awaited call (GCC 12)
      co_await impl->pool.run([impl, poll, prune] {
        impl->sync(poll, prune);
        return true;
      });
    }
  }
};

SecurityMonitor::SecurityMonitor(const SecurityConfig& config, std::vector<std::string> trusted,
                                 storage::MailStore& store, net::BlockingPool& pool)
    : impl_(std::make_shared<Impl>(config, std::move(trusted), store, pool)) {
  // The monitor's metrics from the start, at 0 (docs/alerts.yml watches them).
  export_event_counters();
  bans_active();
  events_dropped();
}

SecurityMonitor::~SecurityMonitor() { set_event_sink({}); }

void SecurityMonitor::start(asio::any_io_executor executor) {
  impl_->load();
  std::weak_ptr<Impl> weak = impl_;
  set_event_sink([weak](const SecurityEvent& event) {
    if (auto impl = weak.lock()) impl->observe(event);
  });
  impl_->executor = executor;
  asio::co_spawn(executor, Impl::watch(impl_), asio::detached);
}

void SecurityMonitor::stop() {
  set_event_sink({});
  impl_->stopping = true;
  if (impl_->executor) {
    asio::post(*impl_->executor, [impl = impl_] {
      if (impl->timer) impl->timer->cancel();
    });
  }
}

void SecurityMonitor::flush() { impl_->sync(false, false); }

bool SecurityMonitor::banned(std::string_view ip) const { return impl_->tracker.is_banned(ip, unix_now()); }

void SecurityMonitor::login_succeeded(std::string_view account, std::string_view ip, std::string_view protocol) {
  impl_->login(account, ip, protocol);
}

}  // namespace postamt::security
