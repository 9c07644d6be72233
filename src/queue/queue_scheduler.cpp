#include "queue/queue_scheduler.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <ctime>
#include <list>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "dns/resolver.hpp"
#include "net/tls_context.hpp"
#include "queue/delivery_notices.hpp"
#include "queue/destination.hpp"
#include "queue/destination_delivery.hpp"
#include "queue/retry_schedule.hpp"

namespace postamt::queue {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
// Messages read per scan; more wait for the next scan (a delivery's end starts one).
constexpr std::size_t kScanBatch = 1000;
// Per-domain failure counters: a flood of distinct domains cannot grow the metrics
// registry without bound; later domains are counted under "other".
constexpr std::size_t kMaxDomainLabels = 1000;
// A returned original larger than this goes back as headers only.
constexpr std::uint64_t kMaxReturnedSize = 10 * 1024 * 1024;
// How long a connection with nothing left to send stays open for mail about to come.
constexpr auto kConnectionReuseWait = std::chrono::seconds(2);

storage::UnixTime now_seconds() { return static_cast<storage::UnixTime>(std::time(nullptr)); }

proto::smtp::TlsPolicy to_policy(OutboundTls tls) {
  switch (tls) {
    case OutboundTls::none: return proto::smtp::TlsPolicy::none;
    case OutboundTls::required: return proto::smtp::TlsPolicy::required;
    case OutboundTls::opportunistic: break;
  }
  return proto::smtp::TlsPolicy::opportunistic;
}

std::shared_ptr<asio::ssl::context> client_context(const std::optional<net::PeerVerification>& verification) {
  auto context = net::make_client_context(verification);
  if (!context) throw std::runtime_error("outbound TLS: " + context.error().message);
  return std::move(*context);
}

// The relay host is authenticated when it will see our credentials, or when the
// operator named how to recognise it; otherwise it is treated like an MX host.
std::optional<net::PeerVerification> relay_verification(const OutboundConfig& outbound, const RelayHost& relay) {
  if (outbound.relayhost_user.empty() && !outbound.relayhost_ca_file && outbound.relayhost_tls_fingerprint.empty()) {
    return std::nullopt;
  }
  return net::PeerVerification{relay.host, outbound.relayhost_ca_file, outbound.relayhost_tls_fingerprint};
}

struct SchedulerMetrics {
  metrics::Gauge& queued;
  metrics::Gauge& deferred;
  metrics::Gauge& held;
  metrics::Gauge& messages;
  metrics::Counter& delivered;
  metrics::Counter& deferrals;
  metrics::Counter& bounced;
  metrics::Gauge& active_connections;

  SchedulerMetrics()
      : queued(gauge("queued")),
        deferred(gauge("deferred")),
        held(gauge("held")),
        messages(metrics::registry().gauge("postamt_queue_messages", "Messages in the outbound queue")),
        delivered(result("delivered")),
        deferrals(result("deferred")),
        bounced(result("bounced")),
        active_connections(metrics::registry().gauge("postamt_outbound_deliveries_active",
                                                     "Outbound deliveries in progress")) {}

  static metrics::Gauge& gauge(const char* state) {
    return metrics::registry().gauge("postamt_queue_recipients", "Recipients in the outbound queue by state",
                                     {{"state", state}});
  }
  static metrics::Counter& result(const char* name) {
    return metrics::registry().counter("postamt_outbound_deliveries_total",
                                       "Outbound delivery attempts per recipient by result", {{"result", name}});
  }
};

}  // namespace

class QueueScheduler::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, SchedulerDependencies deps)
      : io_(io),
        deps_(deps),
        outbound_(deps.config.outbound),
        schedule_{outbound_.retry_initial, outbound_.retry_max, outbound_.max_queue_lifetime},
        timer_(io),
        resolver_(make_resolver(io, deps.config)),
        tls_client_(client_context(std::nullopt)),
        notices_(deps.config.server.hostname, deps.store, deps.blobs, deps.committer, kMaxReturnedSize, deps.dkim),
        load_content_([this](const storage::QueueMessage& message) { return load(message); }) {
    if (!outbound_.relayhost.empty()) {
      relayhost_ = parse_relayhost(outbound_.relayhost);
      if (!relayhost_) throw std::runtime_error("outbound.relayhost: cannot parse '" + outbound_.relayhost + "'");
      if (auto verification = relay_verification(outbound_, *relayhost_)) relay_tls_ = client_context(verification);
    }
  }

  void start() {
    asio::co_spawn(io_, [self = shared_from_this()] { return self->loop(); }, asio::detached);
  }

  void wake() {
    asio::post(io_, [self = shared_from_this()] {
      self->rescan_ = true;
      self->timer_.cancel();
    });
  }

  void end_lookups() { resolver_.shut_down(); }

  void stop() {
    asio::post(io_, [self = shared_from_this()] {
      self->stopping_ = true;
      self->timer_.cancel();
      for (auto& [domain, waiting] : self->idle_) {
        for (IdleConnection* idle : waiting) idle->timer.cancel();
      }
      // A delivery waiting on DNS would otherwise wait past the event loop, its coroutine
      // held by the lookup and the lookup by the resolver this scheduler owns (a cycle).
      self->resolver_.shut_down();
    });
  }

 private:
  static dns::Resolver make_resolver(asio::io_context& io, const Config& config) {
    dns::ResolverOptions options;
    options.servers = config.dns.servers;
    options.attempt_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.dns.timeout);
    // c-ares doubles the timeout on its second round: let it finish both.
    options.lookup_deadline = std::max<std::chrono::milliseconds>(options.lookup_deadline, 3 * options.attempt_timeout);
    auto resolver = dns::Resolver::create(io.get_executor(), std::move(options));
    if (!resolver) throw std::runtime_error("dns: " + resolver.error().message);
    return std::move(*resolver);
  }

  asio::awaitable<storage::StoreResult<std::string>> load(const storage::QueueMessage& message) {
    const std::string& blob_id = message.blob_id;
    co_return co_await deps_.pool.run([&] { return deps_.blobs.read(blob_id); });
  }

  asio::awaitable<void> loop() {
    log::info("queue.started", {{"relayhost", outbound_.relayhost}, {"scan_interval", outbound_.queue_scan_interval.count()}});
    while (!stopping_) {
      rescan_ = false;
      co_await scan();
      if (stopping_) break;
      if (rescan_) continue;
      timer_.expires_after(outbound_.queue_scan_interval);
      co_await timer_.async_wait(kUseTuple);
    }
    log::info("queue.stopped", {{"active", active_total_}});
  }

  asio::awaitable<void> scan() {
    const storage::UnixTime now = now_seconds();
    auto due = co_await deps_.pool.run([&] { return deps_.store.due_queue(now, kScanBatch); });
    if (!due) {
      log::error("queue.scan_failed", {{"error", due.error().message}});
      co_return;
    }
    co_await update_gauges();
    // Recipients already on their way stay with their delivery.
    for (auto& message : *due) {
      std::erase_if(message.recipients, [this](const auto& r) { return in_flight_.contains(r.id); });
    }
    std::erase_if(*due, [](const auto& m) { return m.recipients.empty(); });
    if (due->empty()) co_return;

    for (DeliveryJob& job : group_by_destination(std::move(*due), relayhost_.has_value())) {
      feed_idle_connections(job);
      if (job.messages.empty()) continue;
      std::size_t& domain_active = active_by_domain_[job.domain];
      const std::size_t free_total = outbound_.max_connections > active_total_ ? outbound_.max_connections - active_total_ : 0;
      const std::size_t free_domain = outbound_.max_connections_per_domain > domain_active
                                          ? outbound_.max_connections_per_domain - domain_active
                                          : 0;
      const std::size_t connections = std::min({free_total, free_domain, job.messages.size()});
      if (connections == 0) continue;  // waits for a running delivery to end
      // Spread the messages over the connections this destination may have, in turn.
      std::vector<DeliveryJob> shares(connections, DeliveryJob{job.domain, {}});
      for (std::size_t i = 0; i < job.messages.size(); ++i) {
        shares[i % connections].messages.push_back(std::move(job.messages[i]));
      }
      for (DeliveryJob& share : shares) launch(std::move(share));
    }
  }

  void launch(DeliveryJob job) {
    for (const auto& message : job.messages) {
      for (const auto& recipient : message.recipients) in_flight_.insert(recipient.id);
    }
    ++active_total_;
    ++active_by_domain_[job.domain];
    metrics_.active_connections.set(static_cast<std::int64_t>(active_total_));
    asio::co_spawn(io_, [self = shared_from_this(), job = std::move(job)]() mutable {
      return self->deliver(std::move(job));
    }, asio::detached);
  }

  DestinationSettings settings_for(const std::string& domain) const {
    DestinationSettings settings;
    settings.client.hostname = deps_.config.server.hostname;
    OutboundTls tls = outbound_.tls;
    if (const auto policy = outbound_.tls_policy.find(domain); policy != outbound_.tls_policy.end()) {
      tls = policy->second;
    }
    settings.client.tls = to_policy(tls);
    if (relayhost_ && !outbound_.relayhost_user.empty()) {
      settings.client.credentials = proto::smtp::ClientCredentials{outbound_.relayhost_user, outbound_.relayhost_password};
    }
    settings.mx_port = outbound_.mx_port;
    settings.relayhost = relayhost_;
    settings.connect_timeout = outbound_.connect_timeout;
    settings.reply_timeout = outbound_.command_timeout;
    settings.max_messages_per_connection = outbound_.max_messages_per_connection;
    settings.tls_client = tls_client_;
    settings.allow_private_destinations = outbound_.allow_private_destinations;
    if (relay_tls_) {
      // Credentials go only to a relay host that proved who it is, over TLS: no STARTTLS,
      // or a certificate that does not verify, defers the mail with the reason.
      settings.tls_client = relay_tls_;
      settings.client.tls = proto::smtp::TlsPolicy::required;
      settings.tls_failure_note =
          " (credentials go only to a relay host whose certificate verifies: see the log line "
          "tls.peer_unverified, outbound.relayhost_ca_file and outbound.relayhost_tls_fingerprint; "
          "no credentials were sent)";
    }
    return settings;
  }

  asio::awaitable<void> deliver(DeliveryJob job) {
    DestinationSettings settings = settings_for(job.domain);
    settings.more_messages = [this, &job] { return more_for(job); };
    settings.record = [this, &job](std::vector<RecipientOutcome> done) { return record_now(job, std::move(done)); };
    // The job is kept for recording: deliver_to_destination consumes its copy.
    DeliveryJob attempt = job;
    std::vector<RecipientOutcome> outcomes =
        co_await deliver_to_destination(resolver_, settings, std::move(attempt), load_content_);
    co_await record(job, outcomes);
    for (const auto& message : job.messages) {
      for (const auto& recipient : message.recipients) in_flight_.erase(recipient.id);
    }
    --active_total_;
    if (--active_by_domain_[job.domain] == 0) active_by_domain_.erase(job.domain);
    metrics_.active_connections.set(static_cast<std::int64_t>(active_total_));
    // Work that waited for a free connection may start now.
    rescan_ = true;
    timer_.cancel();
  }

  // Connection reuse: what fell due for the same destination while this connection was
  // busy rides on it instead of waiting for a connection of its own.
  asio::awaitable<std::vector<storage::QueueMessage>> more_for(DeliveryJob& job) {
    std::vector<storage::QueueMessage> more;
    if (stopping_) co_return more;
    const storage::UnixTime now = now_seconds();
    auto due = co_await deps_.pool.run([&] { return deps_.store.due_queue(now, kScanBatch); });
    if (!due) co_return more;
    for (storage::QueueMessage& message : *due) {
      std::erase_if(message.recipients, [&](const auto& r) {
        return in_flight_.contains(r.id) || (!relayhost_ && recipient_domain(r.address) != job.domain);
      });
      if (message.recipients.empty()) continue;
      hand_over(job, more, std::move(message));
      if (more.size() >= outbound_.max_messages_per_connection) break;
    }
    if (!more.empty() || stopping_) co_return more;

    // Nothing yet: stay connected a moment for mail that is about to come (a scan hands
    // it to this connection rather than opening another).
    IdleConnection idle{&job, asio::steady_timer(io_), {}, false};
    idle.timer.expires_after(kConnectionReuseWait);
    auto& waiting = idle_[job.domain];
    const auto place = waiting.insert(waiting.end(), &idle);
    co_await idle.timer.async_wait(kUseTuple);
    if (!idle.claimed) {
      auto found = idle_.find(job.domain);
      found->second.erase(place);
      if (found->second.empty()) idle_.erase(found);
    }
    co_return std::move(idle.handed);
  }

  // The message rides on the connection of `job`: in flight, and recorded with the job.
  void hand_over(DeliveryJob& job, std::vector<storage::QueueMessage>& out, storage::QueueMessage message) {
    for (const auto& recipient : message.recipients) in_flight_.insert(recipient.id);
    job.messages.push_back(message);
    out.push_back(std::move(message));
  }

  // A scan's work for `job.domain` goes to its idle connections first.
  void feed_idle_connections(DeliveryJob& job) {
    const auto found = idle_.find(job.domain);
    if (found == idle_.end()) return;
    std::size_t next = 0;
    while (!found->second.empty() && next < job.messages.size()) {
      IdleConnection* idle = found->second.front();
      found->second.pop_front();
      idle->claimed = true;
      for (std::size_t taken = 0; taken < outbound_.max_messages_per_connection && next < job.messages.size();
           ++taken) {
        hand_over(*idle->job, idle->handed, std::move(job.messages[next++]));
      }
      idle->timer.cancel();
    }
    if (found->second.empty()) idle_.erase(found);
    job.messages.erase(job.messages.begin(), job.messages.begin() + static_cast<std::ptrdiff_t>(next));
  }

  asio::awaitable<void> record_now(DeliveryJob& job, std::vector<RecipientOutcome> outcomes) {
    co_await record(job, outcomes);
  }

  // Writes each outcome back; notices first, so a crash in between repeats a notice
  // rather than losing one.
  asio::awaitable<void> record(const DeliveryJob& job, const std::vector<RecipientOutcome>& outcomes) {
    const storage::UnixTime now = now_seconds();
    std::vector<storage::QueueRecipient> updates;
    std::map<storage::Id, std::vector<NoticeEntry>> notices;  // by message
    for (const RecipientOutcome& outcome : outcomes) {
      // An attempt the shutdown cut short is no attempt: the recipient stays due as it was.
      if (stopping_ && outcome.verdict == Verdict::temporary) continue;
      const storage::QueueMessage* message = find_message(job, outcome.message_id);
      if (message == nullptr) continue;
      const auto recipient = std::ranges::find(message->recipients, outcome.recipient_id, &storage::QueueRecipient::id);
      if (recipient == message->recipients.end()) continue;
      storage::QueueRecipient update = *recipient;
      update.attempts += 1;
      update.last_reply = outcome.diagnostic;
      RecipientOutcome final_outcome = outcome;
      switch (outcome.verdict) {
        case Verdict::delivered:
          update.state = storage::QueueState::delivered;
          metrics_.delivered.inc();
          if (!outcome.relayed_dsn && notice_wanted(update, NoticeAction::relayed)) {
            notices[message->id].push_back({update, final_outcome, NoticeAction::relayed});
          }
          break;
        case Verdict::temporary:
          if (!schedule_.expired(message->created_at, now)) {
            update.state = storage::QueueState::deferred;
            update.next_attempt_at = schedule_.next_attempt(update.attempts, now, message->created_at);
            metrics_.deferrals.inc();
            count_failure(job.domain);
            break;
          }
          // RFC 3463 X.4.7: the message stayed in the queue longer than allowed.
          final_outcome.verdict = Verdict::permanent;
          final_outcome.status = "4.4.7";
          final_outcome.diagnostic = "gave up after " + std::to_string(update.attempts) +
                                     " attempts; last error: " + outcome.diagnostic;
          update.last_reply = final_outcome.diagnostic;
          [[fallthrough]];
        case Verdict::permanent:
          update.state = storage::QueueState::bounced;
          metrics_.bounced.inc();
          count_failure(job.domain);
          if (notice_wanted(update, NoticeAction::failed)) {
            notices[message->id].push_back({update, final_outcome, NoticeAction::failed});
          }
          break;
      }
      log::info("queue.attempt", {{"queue_id", update.message_id},
                                  {"rcpt", update.address},
                                  {"state", storage::queue_state_name(update.state)},
                                  {"attempts", update.attempts},
                                  {"relay", outcome.remote_host},
                                  {"reply", update.last_reply}});
      updates.push_back(std::move(update));
    }

    for (const auto& [message_id, entries] : notices) {
      const storage::QueueMessage* message = find_message(job, message_id);
      auto sent = co_await deps_.pool.run([&] { return notices_.send(*message, entries, now); });
      if (!sent) {
        // A bounce that cannot be stored (the sender's mailbox is full, a disk error)
        // keeps its recipient in the queue, deferred, so the bounce is tried again on the
        // next attempt instead of being lost. A success notice is not worth a second
        // delivery: that recipient stays delivered.
        log::error("queue.notice_failed", {{"queue_id", message_id}, {"error", sent.error().message}});
        for (auto& update : updates) {
          if (update.message_id != message_id || update.state != storage::QueueState::bounced) continue;
          update.state = storage::QueueState::deferred;
          update.next_attempt_at = now + std::max<std::int64_t>(outbound_.retry_initial.count(), 60);
          update.last_reply += " (the bounce could not be stored: " + sent.error().message + ")";
        }
      }
    }
    auto written = co_await deps_.pool.run([&] {
      storage::StoreResult<bool> result = true;
      for (const auto& update : updates) {
        auto done = deps_.store.update_recipient(update);
        // not_found: the operator deleted the message while it was on its way.
        if (!done && done.error().code != storage::StorageError::Code::not_found) {
          result = std::unexpected(done.error());
        }
      }
      return result;
    });
    if (!written) log::error("queue.update_failed", {{"error", written.error().message}});
    co_await update_gauges();
  }

  static const storage::QueueMessage* find_message(const DeliveryJob& job, storage::Id id) {
    const auto found = std::ranges::find(job.messages, id, &storage::QueueMessage::id);
    return found == job.messages.end() ? nullptr : &*found;
  }

  void count_failure(const std::string& domain) {
    std::string label = domain.empty() ? "relayhost" : domain;
    if (!failure_domains_.contains(label)) {
      if (failure_domains_.size() >= kMaxDomainLabels) label = "other";
      failure_domains_.insert(label);
    }
    metrics::registry()
        .counter("postamt_outbound_failures_total", "Failed outbound attempts per recipient by destination",
                 {{"domain", label}})
        .inc();
  }

  asio::awaitable<void> update_gauges() {
    auto counts = co_await deps_.pool.run([&] { return deps_.store.queue_counts(); });
    if (!counts) co_return;
    metrics_.queued.set(static_cast<std::int64_t>(counts->queued));
    metrics_.deferred.set(static_cast<std::int64_t>(counts->deferred));
    metrics_.held.set(static_cast<std::int64_t>(counts->held));
    metrics_.messages.set(static_cast<std::int64_t>(counts->messages));
  }

  // A connection that finished its messages and waits a moment for more.
  struct IdleConnection {
    DeliveryJob* job;
    asio::steady_timer timer;
    std::vector<storage::QueueMessage> handed;
    bool claimed;  // a scan took it off the waiting list and handed it work
  };

  asio::io_context& io_;
  SchedulerDependencies deps_;
  const OutboundConfig& outbound_;
  RetrySchedule schedule_;
  asio::steady_timer timer_;
  dns::Resolver resolver_;
  std::shared_ptr<asio::ssl::context> tls_client_;  // MX hosts: unauthenticated (RFC 7435)
  std::shared_ptr<asio::ssl::context> relay_tls_;   // the relay host, verified; null: like MX hosts
  DeliveryNotices notices_;
  ContentLoader load_content_;
  std::optional<RelayHost> relayhost_;
  SchedulerMetrics metrics_;
  std::unordered_set<storage::Id> in_flight_;
  std::map<std::string, std::list<IdleConnection*>> idle_;  // by destination
  std::map<std::string, std::size_t> active_by_domain_;
  std::set<std::string> failure_domains_;
  std::size_t active_total_ = 0;
  bool rescan_ = false;
  bool stopping_ = false;
};

QueueScheduler::QueueScheduler(asio::io_context& io, SchedulerDependencies dependencies)
    : impl_(std::make_shared<Impl>(io, dependencies)) {}

// The event loop has stopped by now. A delivery still waiting on DNS is held by its lookup,
// the lookup by the resolver, the resolver by Impl and Impl by the delivery: ending the
// lookups queues their completions on the loop, whose destruction then frees them all.
QueueScheduler::~QueueScheduler() { impl_->end_lookups(); }

void QueueScheduler::start() { impl_->start(); }
void QueueScheduler::wake() { impl_->wake(); }
void QueueScheduler::stop() { impl_->stop(); }

}  // namespace postamt::queue
