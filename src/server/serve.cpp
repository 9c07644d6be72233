#include "server/serve.hpp"

#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "net/blocking_pool.hpp"
#include "net/connection_limiter.hpp"
#include "net/connection_rate.hpp"
#include "net/connection_tracker.hpp"
#include "net/io_context_pool.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "server/config/config_loader.hpp"
#include "server/data_dir_lock.hpp"
#include "server/health_probe.hpp"
#include "server/http_endpoint.hpp"
#include "server/junk_training.hpp"
#include "server/ports_file.hpp"
#include "server/privileges.hpp"
#include "server/sd_notify.hpp"
#include "auth/auth_throttle.hpp"
#include "auth/authenticator.hpp"
#include "auth/credential_cache.hpp"
#include "auth/throttle_state.hpp"
#include "delivery/group_committer.hpp"
#include "imap/imap_service.hpp"
#include "imap/text_indexer.hpp"
#include "filter/classifier_filter.hpp"
#include "filter/client_checks.hpp"
#include "filter/client_rate.hpp"
#include "filter/dns_lists.hpp"
#include "filter/greylist.hpp"
#include "filter/milter_filter.hpp"
#include "filter/pipeline.hpp"
#include "filter/rspamd_filter.hpp"
#include "filter/rspamd_learner.hpp"
#include "mailauth/dkim_signing_service.hpp"
#include "mailauth/inbound_check.hpp"
#include "mailauth/public_suffix_list.hpp"
#include "mailauth/resolver_record_lookup.hpp"
#include "pop3/pop3_service.hpp"
#include "queue/queue_scheduler.hpp"
#include "smtp/outbound_guard.hpp"
#include "security/security_monitor.hpp"
#include "mailauth/dmarc_report_ingest.hpp"
#include "mailauth/dmarc_report_recorder.hpp"
#include "mailauth/dmarc_report_sender.hpp"
#include "server/dmarc_report_wiring.hpp"
#include "smtp/smtp_service.hpp"
#include "storage/api/blob_collector.hpp"
#include "storage/api/blob_reclaimer.hpp"
#include "storage/api/disk_space.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

bool is_smtp(Protocol protocol) {
  return protocol == Protocol::smtp || protocol == Protocol::submission || protocol == Protocol::submissions;
}

bool is_pop3(Protocol protocol) { return protocol == Protocol::pop3 || protocol == Protocol::pop3s; }

auth::ThrottlePolicy throttle_policy(const AuthConfig& auth) {
  auth::ThrottlePolicy policy;
  policy.max_failures_per_source = auth.max_failures_per_ip;
  policy.lockout = auth.lockout;
  policy.ipv6_prefix = auth.ipv6_prefix;
  policy.trusted_networks = auth.trusted_networks;
  policy.account_delay_after = auth.account_delay_after;
  policy.account_delay_base = auth.account_delay;
  policy.max_account_delay = auth.max_account_delay;
  return policy;
}

// Networks no abuse defense counts (the auth throttle's and the bans' trusted networks).
std::vector<std::string> trusted_networks(const Config& config) {
  std::vector<std::string> trusted = config.auth.trusted_networks;
  trusted.insert(trusted.end(), config.security.trusted_networks.begin(), config.security.trusted_networks.end());
  return trusted;
}

bool needs_tls(const Config& config) {
  for (const auto& listener : config.listeners) {
    if (protocol_uses_implicit_tls(listener.protocol)) return true;
  }
  return false;
}

class Server {
 public:
  explicit Server(const Config& config)
      : config_(config),
        notifier_(ServiceNotifier::from_environment()),
        pool_(config.server.io_threads),
        blocking_(config.server.storage_threads),
        limiter_(config.limits.max_connections, config.limits.max_connections_per_ip,
                 config.limits.max_unauthenticated_connections,
                 config.limits.max_unauthenticated_per_ip),
        connection_rate_(config.limits.max_connections_per_ip_per_minute, trusted_networks(config)),
        tls_(config.tls),
        throttle_(throttle_policy(config.auth)),
        credential_cache_(config.auth.cache_ttl, config.auth.cache_size),
        dkim_(config.server.data_dir),
        signals_(pool_.main_context()),
        drain_timer_(pool_.main_context()),
        disk_timer_(pool_.main_context()) {}

  ~Server() {
    // The listener points into imap_, which goes before the store does.
    if (store_) store_->set_change_listener({});
  }

  int run() {
    // Signals first: a SIGTERM or SIGHUP that arrives while starting must not kill the
    // process with the default action.
    wait_for_signals();
    // Before anything opens the store: the data directory's owner and modes (and, as root
    // with server.user, a fresh one created for that user).
    if (auto checked = check_data_dir(config_); !checked) return fail(checked.error().message);
    // One server per data directory, before anything else touches it (no ports file, no
    // migration, no blob collection by a second server). Taken as root when started as
    // root; the descriptor stays open across the privilege drop.
    auto lock = DataDirLock::acquire(config_.server.data_dir);
    if (!lock) {
      log::error(lock.error().in_use ? "server.data_dir_in_use" : "server.start_failed",
                 {{"error", lock.error().message}});
      if (config_.log.file) std::cerr << "postamt: error: " << lock.error().message << "\n";
      return lock.error().in_use ? kExitDataDirInUse : 1;
    }
    lock_.emplace(std::move(*lock));

    if (auto loaded = tls_.load(config_.server.hostname); !loaded) {
      if (needs_tls(config_)) {
        log::error("tls.unavailable", {{"error", loaded.error().message}});
        return 1;
      }
      log::warn("tls.unavailable", {{"error", loaded.error().message}, {"effect", "STARTTLS not offered"}});
    }
    const bool tls_available = tls_.current() != nullptr;

    // Privileged ports are bound as root; the sessions' handlers come once the store is
    // open (accepting starts only then, connections wait in the backlog meanwhile).
    std::map<std::string, std::vector<std::string>> bound;
    for (const auto& listener_config : config_.listeners) {
      const std::string name(protocol_name(listener_config.protocol));
      if (listener_config.protocol == Protocol::http) {
        auto endpoint = std::make_unique<HttpEndpoint>(listener_config);
        if (auto ok = endpoint->bind(); !ok) return fail(ok.error().message);
        bound[name].push_back(endpoint->bound_address());
        http_.push_back(std::move(endpoint));
        continue;
      }
      auto listener = std::make_unique<net::Listener>(
          listener_config, net::ListenerServices{pool_, limiter_, tracker_, tls_, config_.limits, &ban_check_,
                                               &connection_rate_},
          net::ProtocolBehaviour{});
      if (auto ok = listener->bind(); !ok) return fail(ok.error().message);
      bound[name].push_back(listener->bound_address());
      listeners_.push_back(std::move(listener));
    }

    // The ports file goes out while still privileged (its directory may be root's); the
    // drop follows at once.
    if (config_.server.ports_file) {
      if (auto written = write_ports_file(*config_.server.ports_file, bound); !written) {
        return fail(written.error().message);
      }
    }
    if (config_.server.user) {
      auto dropped = drop_privileges(*config_.server.user, {config_.tls.cert, config_.tls.key});
      if (!dropped) return fail(dropped.error().message);
    }

    // As the service user from here on: what the store, its migrations and the blob
    // collection create belongs to it.
    try {
      open_store();
    } catch (const std::exception& error) {
      return fail(error.what());
    }
    for (auto& listener : listeners_) {
      const Protocol protocol = listener->config().protocol;
      listener->set_behaviour(is_smtp(protocol)   ? smtp_->behaviour(protocol, tls_available)
                              : is_pop3(protocol) ? pop3_->behaviour(protocol, tls_available)
                                                  : imap_->behaviour(protocol, tls_available));
    }

    for (auto& endpoint : http_) endpoint->set_health_check(cached_health_check());
    refresh_disk_space();

    for (auto& listener : listeners_) listener->start();
    for (auto& endpoint : http_) endpoint->start();
    scheduler_->start();
    if (dmarc_reports_) dmarc_reports_->start(pool_.main_context());
    dmarc_ingest_->start(pool_.main_context());
    dmarc_recorder_->start(pool_.main_context());
    throttle_state_->start();
    for (const auto& [protocol, addresses] : bound) {
      for (const auto& address : addresses) log::info("listen", {{"proto", protocol}, {"address", address}});
    }

    metrics::registry().gauge("postamt_start_time_seconds", "Unix time the server started")
        .set(static_cast<std::int64_t>(std::time(nullptr)));
    log::info("server.started", {{"hostname", config_.server.hostname},
                                 {"io_threads", pool_.size()},
                                 {"schema", store_->schema_version()}});
    // Type=notify: every listener is bound (and in the ports file), the store is open.
    notifier_.ready();
    pool_.run();
    for (auto& endpoint : http_) endpoint->stop();
    dmarc_recorder_->stop();  // the evaluations still waiting go to the store
    security_->flush();       // and the security events
    blocking_.stop();
    authenticator_->stop();
    text_indexer_->stop();
    committer_->stop();
    reclaimer_->stop();
    log::info("server.stopped", {{"open_connections", tracker_.size()}});
    return 0;
  }

 private:
  // The store, the blob files, the services over them. Throws on a start-up failure.
  void open_store() {
    store_ = storage::open_sqlite_store(config_.server.data_dir);
    blobs_ = std::make_unique<storage::FsBlobStore>(config_.server.data_dir / "blobs");
    if (const auto removed = blobs_->remove_temporary_files(); removed > 0) {
      log::info("store.tmp_removed", {{"files", removed}});  // writes a crash interrupted
    }
    // Before any delivery can be in flight: drop blob files a crash left without a row.
    // Only the lock holder ever deletes blob files.
    if (auto collected = storage::collect_blobs(*store_, *blobs_); !collected) {
      log::error("store.gc_failed", {{"error", collected.error().message}});
    } else if (collected->removed_orphans + collected->removed_unreferenced > 0) {
      log::info("store.gc", {{"orphans", collected->removed_orphans},
                             {"unreferenced", collected->removed_unreferenced}});
    }
    // From now on blobs nothing references go while running (EXPUNGE, refused mail, queue
    // entries done); the start-up collection above stays the backstop.
    reclaimer_ = std::make_unique<storage::BlobReclaimer>(*store_, *blobs_);
    reclaimer_->start();
    storage::DiskSpace::data().configure(config_.server.data_dir, config_.limits.min_free_disk_mb * 1024 * 1024);
    health_ = std::make_unique<HealthProbe>(*lock_, *store_, *blobs_, storage::DiskSpace::data());
    // One blob sync per batch of deliveries (group commit), not one per message.
    committer_ = std::make_unique<delivery::GroupCommitter>(*store_, blobs_.get());
    authenticator_ = std::make_unique<auth::Authenticator>(
        *store_, throttle_, credential_cache_, &blocking_,
        auth::AuthenticatorOptions{config_.auth.failure_delay, config_.auth.hash_threads, config_.auth.hash_queue});
    // Issue 15 §6: per-account outbound limits and holds (submissions, logins, bounces).
    outbound_guard_ = std::make_unique<smtp::OutboundGuard>(
        smtp::OutboundGuardDependencies{config_, *store_, *blobs_, blocking_, *committer_});
    authenticator_->add_login_observer(
        [guard = outbound_guard_.get()](auto account, auto ip) { guard->login_succeeded(account, ip); });
    start_security_monitor();
    throttle_state_ = std::make_unique<auth::ThrottleStateSync>(pool_.main_context().get_executor(), throttle_,
                                                                config_.server.data_dir);
    // DKIM keys (data/dkim/): a key that cannot be read stops the start rather than let
    // mail go out unsigned unnoticed.
    auto keys = dkim_.load();
    if (!keys) throw std::runtime_error("DKIM keys: " + keys.error().message);
    log::info("dkim.keys_loaded", {{"keys", *keys}});
    start_sender_checks();
    // Issue 15 §5: messages moved into and out of Junk teach the learners start_filters() adds.
    junk_training_ = std::make_unique<JunkTraining>(pool_.main_context(), *blobs_, blocking_);
    start_filters();
    smtp_ = std::make_unique<smtp::SmtpService>(smtp::SmtpDependencies{
        config_, *store_, *blobs_, blocking_, *committer_, *authenticator_, &dkim_, inbound_.get(), filters_.get(),
        outbound_guard_.get()});
    pop3_ = std::make_unique<pop3::Pop3Service>(
        pop3::Pop3Dependencies{config_, *store_, *blobs_, blocking_, *authenticator_});
    imap_ = std::make_unique<imap::ImapService>(
        imap::ImapDependencies{config_, *store_, *blobs_, blocking_, *authenticator_,
                               junk_training_->empty() ? nullptr : junk_training_.get()});
    // Every commit that touches mailboxes wakes the IMAP sessions that have them selected,
    // and the text indexer (new messages to index for SEARCH BODY/TEXT).
    imap::TextIndexerOptions indexing;
    indexing.quiet_period = std::chrono::milliseconds(500);
    indexing.max_delay = std::chrono::seconds(15);
    text_indexer_ = std::make_unique<imap::TextIndexer>(*store_, *blobs_, indexing);
    store_->set_change_listener([imap = imap_.get(), indexer = text_indexer_.get(),
                                 reclaimer = reclaimer_.get()](std::span<const storage::Id> ids) {
      imap->mailboxes_changed(ids);
      indexer->wake();
      reclaimer->wake();  // an EXPUNGE may have dropped a blob's last reference
    });
    text_indexer_->start();
    // Outbound: what SMTP queues for other servers. A commit that queued mail wakes it.
    scheduler_ = std::make_unique<queue::QueueScheduler>(
        pool_.main_context(), queue::SchedulerDependencies{config_, *store_, *blobs_, blocking_, *committer_, &dkim_});
    committer_->set_queue_listener([scheduler = scheduler_.get()] { scheduler->wake(); });
    outbound_guard_->start(pool_.main_context().get_executor(), [scheduler = scheduler_.get()] { scheduler->wake(); });
    // DMARC aggregate reports: ours go out once a day through the queue; those others send
    // to dmarc-reports@ are read from its INBOX every few minutes.
    if (config_.mailauth.send_reports) {
      report_lookup_ = make_dmarc_report_lookup(pool_.main_context(), config_);
      dmarc_reports_ = std::make_unique<mailauth::DmarcReportSender>(
          dmarc_report_settings(config_),
          mailauth::DmarcReportDependencies{*store_, *blobs_, report_lookup_.get(), &blocking_});
      dmarc_reports_->set_sign(make_dmarc_report_signer(config_, dkim_));
      dmarc_reports_->set_queued_listener([scheduler = scheduler_.get()] { scheduler->wake(); });
    }
    dmarc_ingest_ = std::make_unique<mailauth::DmarcReportIngestTask>(*store_, *blobs_, blocking_);
    // Port 25's DMARC evaluations, batched into the store for the daily reports.
    dmarc_recorder_ = std::make_unique<mailauth::DmarcEvaluationRecorder>(*store_, blocking_);
    if (inbound_) inbound_->set_evaluation_recorder(dmarc_recorder_.get());
  }

  // Issue 15 §7, §8: security events to the store, bans (stored, polled, checked at accept
  // by every listener through ban_check_), logins from new networks.
  void start_security_monitor() {
    std::vector<std::string> trusted = trusted_networks(config_);
    security_ = std::make_shared<security::SecurityMonitor>(config_.security, std::move(trusted), *store_, blocking_);
    security_->start(pool_.main_context().get_executor());
    // The check owns the monitor: an accept completing while the server is torn down never
    // reaches a destroyed one.
    ban_check_ = [monitor = security_](std::string_view ip) { return monitor->banned(ip); };
    authenticator_->add_login_observer(
        [monitor = security_.get()](auto account, auto ip) { monitor->login_succeeded(account, ip, ""); });
  }

  // /healthz: the probe's verdict, computed at most once a second however often it is
  // asked (each probe writes a row and a file).
  std::function<std::string()> cached_health_check() {
    struct Cache {
      std::mutex mutex;
      std::chrono::steady_clock::time_point at;
      std::string problems;
      bool valid = false;
    };
    return [health = health_.get(), cache = std::make_shared<Cache>()] {
      std::lock_guard lock(cache->mutex);
      const auto now = std::chrono::steady_clock::now();
      if (!cache->valid || now - cache->at >= std::chrono::seconds(1)) {
        cache->problems = health->problems();
        cache->at = now;
        cache->valid = true;
        if (!cache->problems.empty()) log::warn("health.not_ok", {{"problems", cache->problems}});
      }
      return cache->problems;
    };
  }

  // The free-space figure (SMTP/APPEND floor, postamt_data_free_bytes) once a second.
  void refresh_disk_space() {
    if (auto failed = storage::DiskSpace::data().refresh(); !failed.empty()) {
      log::warn("disk.statvfs_failed", {{"error", failed}});
    }
    disk_timer_.expires_after(std::chrono::seconds(1));
    disk_timer_.async_wait([this](const std::error_code& ec) {
      if (!ec) refresh_disk_space();
    });
  }

  int fail(const std::string& message) {
    log::error("server.start_failed", {{"error", message}});
    for (auto& endpoint : http_) endpoint->stop();
    return 1;
  }

  void wait_for_signals() {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    await_signal();
  }

  void await_signal() {
    signals_.async_wait([this](const std::error_code& ec, int signal) {
      if (ec) return;
      if (signal != SIGHUP) return drain();
      reload();
      await_signal();
    });
  }

  // SIGHUP: re-read the config file for the log level, then the certificate files. A bad
  // file keeps what is running and says why.
  void reload() {
    notifier_.reloading();
    auto reloaded = config::load_config_file(config_.source);
    if (!reloaded) {
      log::error("reload.config_invalid", {{"errors", reloaded.error().to_string()}});
    } else {
      log::set_level(reloaded->log.level);
    }
    auto tls_reloaded = tls_.reload();
    if (!tls_reloaded) log::error("reload.tls_failed", {{"error", tls_reloaded.error().message}});
    // DKIM keys added, rotated or retired with `postamt dkim` since the start.
    auto keys = dkim_.load();
    if (!keys) {
      log::error("reload.dkim_failed", {{"error", keys.error().message}});
    } else {
      log::info("dkim.keys_loaded", {{"keys", *keys}});
    }
    // "done" only when everything was taken; a failure above already said what was kept.
    if (reloaded && tls_reloaded && keys) log::info("reload.done", {{"cert", config_.tls.cert.string()}});
    notifier_.ready();  // serving again, with what was taken or what was kept
  }

  // Sender authentication on port 25 (issue 14): one resolver per I/O context over a shared
  // TTL cache, and the Public Suffix List when DMARC runs in RFC 7489 mode.
  void start_sender_checks() {
    const auto& filter = config_.filter;
    const bool filters_ask_dns = !filter.dnsbl.empty() || !filter.dnswl.empty() || filter.reverse_dns != CheckMode::off;
    if (!config_.mailauth.verify && !filters_ask_dns) return;
    dns::ResolverOptions options;
    options.servers = config_.dns.servers;
    options.attempt_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config_.dns.timeout);
    // c-ares doubles the timeout on its second round: let it finish both.
    options.lookup_deadline = std::max<std::chrono::milliseconds>(options.lookup_deadline, 3 * options.attempt_timeout);
    lookups_ = std::make_unique<mailauth::RecordLookupPool>(options);
    if (!config_.mailauth.verify) return;
    if (config_.mailauth.dmarc_mode == DmarcMode::rfc7489) {
      auto list = mailauth::PublicSuffixList::load();
      if (!list) throw std::runtime_error("mailauth.dmarc_mode = \"rfc7489\": " + list.error().message);
      suffixes_.emplace(std::move(*list));
    }
    inbound_ = std::make_unique<mailauth::InboundChecker>(config_, *lookups_, suffixes_ ? &*suffixes_ : nullptr);
  }

  // Issue 15: the filters of mail on port 25, cheapest first (DNS lists), then rspamd,
  // then the milters in their configured order. Null when none is configured.
  void start_filters() {
    std::vector<std::unique_ptr<filter::Filter>> filters;
    const auto& config = config_.filter;
    if (config.max_messages_per_ip_per_hour > 0) {
      filters.push_back(filter::make_client_rate_filter(
          std::make_shared<filter::ClientRate>(config.max_messages_per_ip_per_hour)));
    }
    if (config.greylist) {
      filter::GreylistOptions options;
      options.delay = config.greylist_delay;
      filters.push_back(filter::make_greylist_filter(std::make_shared<filter::Greylist>(options)));
    }
    if (config.helo != CheckMode::off || config.reverse_dns != CheckMode::off) {
      filter::ClientCheckOptions options{config.reverse_dns, config.helo, {config_.server.hostname}};
      filters.push_back(filter::make_client_check_filter(std::move(options), lookups_.get()));
    }
    if ((!config.dnsbl.empty() || !config.dnswl.empty()) && lookups_) {
      filters.push_back(filter::make_dns_list_filter(config, *lookups_));
    }
    if (!config.rspamd.url.empty()) {  // issue 15 §2: after the cheap checks
      auto rspamd = filter::make_rspamd_filter(config.rspamd, config.max_message_size);
      if (!rspamd) throw std::runtime_error(rspamd.error().message);
      filters.push_back(std::move(*rspamd));
      // Issue 15 §5: moves into and out of Junk are lessons for rspamd's controller too.
      auto learner = filter::make_rspamd_learner(config.rspamd);
      if (!learner) throw std::runtime_error(learner.error().message);
      junk_training_->add_learner(std::move(*learner));
    }
    // [[filter.milter]]: one filter per milter, in the order configured (issue 15 §3).
    for (const auto& milter : config.milters) {
      if (auto made = filter::make_milter_filter(milter)) filters.push_back(std::move(made));
    }
    if (config.classifier) {  // the built-in classifier: learns from Junk, then judges
      filters.push_back(filter::make_classifier_filter(*store_, blocking_));
      junk_training_->add_learner(filter::make_classifier_learner(*store_, blocking_));
    }
    if (filters.empty()) return;
    std::string names;
    for (const auto& f : filters) names += (names.empty() ? "" : ",") + f->name();
    log::info("filter.pipeline", {{"filters", names}});
    filters_ = std::make_unique<filter::Pipeline>(std::move(filters), config.max_message_size);
  }

  // SIGTERM: stop accepting, ask every session to finish (each says goodbye in its own
  // protocol), and stop once all are gone or the grace period ends.
  void drain() {
    notifier_.stopping();
    log::info("server.draining", {{"open_connections", tracker_.size()}});
    for (auto& listener : listeners_) listener->stop();
    for (auto& endpoint : http_) endpoint->stop();
    // Deliveries in flight end with the event loop; their recipients stay queued and go
    // out after the restart (a repeat at worst, never a loss).
    scheduler_->stop();
    if (dmarc_reports_) dmarc_reports_->stop();
    dmarc_ingest_->stop();
    throttle_state_->stop();
    outbound_guard_->stop();
    security_->stop();
    if (lookups_) lookups_->shut_down();  // no session waits on DNS past the drain
    tracker_.request_shutdown_all();
    drain_deadline_ = std::chrono::steady_clock::now() + config_.server.shutdown_grace;
    poll_drain();
  }

  void poll_drain() {
    if (tracker_.size() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      signals_.cancel();
      disk_timer_.cancel();
      pool_.stop();
      return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(20));
    drain_timer_.async_wait([this](const std::error_code& ec) {
      if (!ec) poll_drain();
    });
  }

  const Config& config_;
  std::optional<DataDirLock> lock_;  // first member: released last, after the store closed
  ServiceNotifier notifier_;  // systemd's $NOTIFY_SOCKET, opened before the privilege drop
  net::IoContextPool pool_;
  net::BlockingPool blocking_;
  net::ConnectionLimiter limiter_;
  net::ConnectionRate connection_rate_;
  net::ConnectionTracker tracker_;
  net::TlsContextProvider tls_;
  auth::AuthThrottle throttle_;
  auth::CredentialCache credential_cache_;
  mailauth::DkimSigningService dkim_;  // before the services that sign with it
  // After the I/O contexts (pool_): the resolvers go before the contexts they run on.
  std::unique_ptr<mailauth::RecordLookupPool> lookups_;
  std::optional<mailauth::PublicSuffixList> suffixes_;
  std::unique_ptr<mailauth::InboundChecker> inbound_;
  std::unique_ptr<filter::Pipeline> filters_;
  std::unique_ptr<JunkTraining> junk_training_;  // lessons from IMAP Junk moves
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer disk_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::unique_ptr<storage::MailStore> store_;
  std::unique_ptr<storage::FsBlobStore> blobs_;
  std::unique_ptr<storage::BlobReclaimer> reclaimer_;  // stops before the store goes
  std::unique_ptr<HealthProbe> health_;
  std::unique_ptr<delivery::GroupCommitter> committer_;  // stops before the store goes
  std::unique_ptr<queue::QueueScheduler> scheduler_;     // after the committer: goes first
  std::unique_ptr<mailauth::RecordLookup> report_lookup_;  // §7.1 checks (dmarc_report_wiring)
  std::unique_ptr<mailauth::DmarcReportSender> dmarc_reports_;  // null with send_reports = false
  std::unique_ptr<mailauth::DmarcReportIngestTask> dmarc_ingest_;
  std::unique_ptr<mailauth::DmarcEvaluationRecorder> dmarc_recorder_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<auth::ThrottleStateSync> throttle_state_;
  std::unique_ptr<smtp::OutboundGuard> outbound_guard_;  // after the committer and store: goes first
  std::shared_ptr<security::SecurityMonitor> security_;  // after the store: goes first
  std::function<bool(std::string_view)> ban_check_;      // the listeners' admission check
  std::unique_ptr<smtp::SmtpService> smtp_;
  std::unique_ptr<pop3::Pop3Service> pop3_;
  std::unique_ptr<imap::ImapService> imap_;
  std::unique_ptr<imap::TextIndexer> text_indexer_;  // declared after the store: goes first
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::vector<std::unique_ptr<HttpEndpoint>> http_;
};

}  // namespace

int serve(const Config& config) {
  // A peer that resets mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  Server server(config);
  return server.run();
}

}  // namespace postamt::server
