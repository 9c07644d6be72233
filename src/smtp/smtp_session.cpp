#include "smtp/smtp_session.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include "auth/address.hpp"
#include "base/log.hpp"
#include "security/security_event.hpp"
#include "delivery/trace_headers.hpp"
#include "net/connection.hpp"
#include "proto/sasl/server_exchange.hpp"
#include "proto/smtp/server_engine.hpp"
#include "mailauth/inbound_check.hpp"
#include "smtp/envelope_text.hpp"
#include "smtp/forward_sealing.hpp"
#include "smtp/inbound_filtering.hpp"
#include "smtp/inbound_verification.hpp"
#include "smtp/message_head.hpp"
#include "smtp/message_spool.hpp"
#include "smtp/outbound_guard.hpp"
#include "smtp/sender_policy.hpp"
#include "smtp/smtp_service_state.hpp"
#include "smtp/submission_signing.hpp"
#include "smtp/transfer_deadline.hpp"
#include "storage/api/disk_space.hpp"

namespace postamt::smtp {
namespace {

namespace engine_ns = proto::smtp;
using engine_ns::make_reply;

class SmtpSession {
 public:
  SmtpSession(std::shared_ptr<net::Connection> connection, std::shared_ptr<SmtpServiceState> state,
              SmtpRole role)
      : connection_(std::move(connection)),
        state_(std::move(state)),
        role_(role),
        engine_(engine_options()),
        spool_(state_->deps.blobs, state_->deps.pool, config().smtp.spool_memory_limit),
        transfer_(config().smtp.command_timeout, config().smtp.data_timeout, config().smtp.data_min_rate) {}

  asio::awaitable<void> run() {
    if (co_await talks_before_greeting()) co_return;
    engine_.start();
    for (;;) {
      while (auto event = engine_.next_event()) {
        co_await std::visit([this](auto& e) { return handle(e); }, *event);
      }
      if (!co_await flush()) co_return;
      if (engine_.wants_close()) {
        // Issue 15 §8: closed for too many protocol errors (421 4.7.0).
        if (const unsigned limit = engine_ns::ServerOptions{}.max_errors; limit != 0 && engine_.errors() >= limit) {
          security::report_protocol_abuse(protocol_name(connection_->info().protocol), remote_ip(), sid(),
                                          engine_.errors());
        }
        co_return;
      }
      const auto bound = read_bound();
      if (bound && bound->at <= TransferDeadline::Clock::now()) {
        co_await close_slow(bound->kind);
        co_return;
      }
      auto bytes = co_await connection_->read_some();
      if (!bytes) {
        switch (bytes.error()) {
          case net::ReadError::timeout:
            if (bound && bound->at <= TransferDeadline::Clock::now() + std::chrono::seconds(1)) {
              co_await close_slow(bound->kind);
              co_return;
            }
            engine_.shutdown(make_reply(421, "4.4.2", hostname() + " Idle for too long, closing connection"));
            co_await flush();
            break;
          case net::ReadError::shutdown:
            engine_.shutdown(make_reply(421, "4.3.2", hostname() + " Service shutting down"));
            co_await flush();
            break;
          default:
            break;
        }
        log_end(net::read_error_name(bytes.error()));
        co_return;
      }
      engine_.receive(*bytes);
      if (in_data_) transfer_.data_received(bytes->size());
    }
  }

 private:
  // The next read may wait until the idle timeout, or less while the client is in the
  // middle of a command line or a message (TransferDeadline: slow clients).
  std::optional<TransferDeadline::Deadline> read_bound() {
    const auto now = TransferDeadline::Clock::now();
    transfer_.command_input(!in_data_ && engine_.buffered_input() > 0, now);
    const auto idle = config().limits.idle_timeout;
    auto bound = transfer_.deadline();
    if (!bound || bound->at - now >= idle) {
      connection_->set_idle_timeout(idle);
      return std::nullopt;
    }
    // Whole seconds, rounded up: the check after the timeout allows for the rounding.
    const auto left = std::chrono::ceil<std::chrono::seconds>(bound->at - now);
    connection_->set_idle_timeout(std::max(left, std::chrono::seconds(1)));
    return bound;
  }

  asio::awaitable<void> close_slow(TransferDeadline::Kind kind) {
    const bool data = kind == TransferDeadline::Kind::data;
    log::info("smtp.too_slow", {{"sid", sid()},
                                {"remote", remote_ip()},
                                {"id", transaction_id_},
                                {"phase", data ? "data" : "command"}});
    engine_.shutdown(make_reply(421, "4.4.2", hostname() + (data ? " Message data too slow" : " Command too slow") +
                                                  ", closing connection"));
    co_await flush();
    log_end(data ? "slow_data" : "slow_command");
  }

  const Config& config() const { return state_->deps.config; }
  std::string hostname() const { return config().server.hostname; }
  bool submission() const { return role_.protocol != Protocol::smtp; }
  // The guard of an authenticated submission's outbound limits, else nullptr.
  OutboundGuard* outbound_guard() const { return submission() && account_ ? state_->deps.outbound_guard : nullptr; }
  std::uint64_t sid() const { return connection_->info().session_id; }
  const std::string& remote_ip() const { return connection_->info().remote_ip; }
  std::string user() const { return account_ ? account_->address : ""; }

  bool auth_allowed_now(bool tls_active) const {
    return submission() && (tls_active || config().auth.allow_plaintext_without_tls);
  }

  engine_ns::ServerOptions engine_options() const {
    engine_ns::ServerOptions options;
    options.hostname = config().server.hostname;
    options.max_message_size = config().smtp.max_message_size;
    options.max_recipients = config().smtp.max_recipients;
    options.max_text_line = config().smtp.max_text_line;
    options.max_bdat_chunk = config().smtp.max_message_size;
    options.normalize_bare_line_endings = config().smtp.normalize_bare_line_endings;
    const bool tls_active = connection_->stream().tls_active();
    options.tls_active = tls_active;
    options.starttls_available = role_.tls_available && !tls_active;
    if (auth_allowed_now(tls_active)) options.auth_mechanisms = {"PLAIN", "LOGIN"};
    options.auth_required = submission();
    options.auth_needs_tls = submission() && !config().auth.allow_plaintext_without_tls;
    return options;
  }

  asio::awaitable<bool> flush() {
    while (!engine_.pending_output().empty()) {
      const auto output = engine_.pending_output();
      if (!co_await connection_->write(output)) co_return false;
      engine_.consume_output(output.size());
    }
    co_return true;
  }

  void log_end(std::string_view why) {
    log::debug("smtp.end", {{"sid", sid()}, {"why", why}, {"messages", messages_}});
  }

  // --- transaction state
  using Accepted = AcceptedRecipient;
  void reset_transaction() {
    data_ended();
    recipients_.clear();
    check_.reset();
    spool_.start({});  // drops a message being received (a BDAT transaction reset)
    transaction_id_.clear();
  }

  // Refuses the recipient and says why in the log (issue 13 §5: traceable refusals).
  void refuse_rcpt(std::string_view address, engine_ns::Reply reply, std::string_view reason) {
    log::info("smtp.rcpt_refused", {{"sid", sid()},
                                    {"remote", remote_ip()},
                                    {"user", user()},
                                    {"rcpt", address},
                                    {"reason", reason},
                                    {"reply", std::to_string(reply.code) + " " + reply.status}});
    engine_.reject(std::move(reply));
  }

  // --- events
  asio::awaitable<void> handle(engine_ns::Ehlo& e) {
    log::debug("smtp.helo", {{"sid", sid()}, {"helo", e.domain}});
    reset_transaction();
    co_return;
  }

  asio::awaitable<void> handle(engine_ns::MailFrom& e) {
    reset_transaction();
    transaction_id_ = state_->new_transaction_id();
    if (refuse_when_disk_low()) co_return;
    if (submission() && e.reverse_path.empty() && !config().smtp.allow_null_sender_submission) {
      // A bounce comes from an MTA, not from a user's mail program (RFC 6409 §8.1 leaves
      // the check to the MSA): refused unless smtp.allow_null_sender_submission.
      state_->metrics.senders_refused.inc();
      log::info("smtp.sender_refused", {{"sid", sid()}, {"user", user()}, {"from", "<>"}, {"reason", "null sender"}});
      engine_.reject(make_reply(550, "5.7.1", "Null sender <> not accepted on submission"));
      co_return;
    }
    if (submission() && account_ && !e.reverse_path.empty() && config().smtp.enforce_sender) {
      const std::string sender = e.reverse_path;
      const std::string account = account_->address;
      auto owned = co_await state_->deps.pool.run(
          [&] { return sender_owned(state_->deps.store, config().smtp, sender, account); });
      if (!owned) {
        engine_.reject(make_reply(451, "4.3.0", "Temporary failure checking the sender, try again later"));
        co_return;
      }
      if (!*owned) {
        state_->metrics.senders_refused.inc();
        log::info("smtp.sender_refused", {{"sid", sid()}, {"user", account}, {"from", sender}, {"reason", "not owned"}});
        engine_.reject(make_reply(553, "5.7.1", "Sender address not owned by the authenticated user"));
        co_return;
      }
    }
    if (OutboundGuard* guard = outbound_guard()) {  // issue 15 §6: limits and holds
      if (auto refused = co_await guard->check_mail(account_->address, outbound_tally_)) {
        log::info("smtp.sender_refused", {{"sid", sid()}, {"user", user()}, {"reason", "outbound hold"}});
        engine_.reject(std::move(*refused));
        co_return;
      }
    }
    engine_.accept_mail();
  }

  asio::awaitable<void> handle(engine_ns::RcptTo& e) {
    std::string address = e.forward_path;
    if (address.find('@') == std::string::npos) {
      // RFC 5321 §4.5.1: <Postmaster> must be accepted; it is the primary domain's.
      const std::string host = hostname();
      auto postmaster = co_await state_->deps.pool.run([&] { return postmaster_address(state_->deps.store, host); });
      if (!postmaster) {
        engine_.reject(make_reply(451, "4.3.0", "Temporary failure resolving the recipient, try again later"));
        co_return;
      }
      address = postmaster->empty() ? "postmaster@" + host : *postmaster;
    }
    auto normalized = auth::normalize_address(address);
    if (!normalized) {
      refuse_rcpt(address, make_reply(553, "5.1.3", "Recipient address syntax not accepted here"), "bad syntax");
      co_return;
    }
    bool mailbox_full = false;
    auto resolution = co_await state_->deps.pool.run([&] {
      delivery::RecipientResolver resolver(state_->deps.store);
      auto resolved = resolver.resolve(*normalized);
      if (!resolved) return resolved;
      // An account already at its quota is refused here, before the message is sent; one
      // with room left can still overflow at DATA (checked again in the commit).
      for (const auto& local : resolved->local) {
        auto account = state_->deps.store.find_account(local.address);
        if (!account || account->quota_bytes == 0) continue;
        auto used = state_->deps.store.account_usage(local.account_id);
        if (used && *used >= account->quota_bytes) mailbox_full = true;
      }
      return resolved;
    });
    if (!resolution) {
      log::warn("smtp.resolve_failed", {{"sid", sid()}, {"error", resolution.error().message}});
      refuse_rcpt(*normalized, make_reply(451, "4.3.0", "Temporary failure resolving the recipient, try again later"),
                  "lookup failed");
      co_return;
    }
    using Kind = delivery::Resolution::Kind;
    switch (resolution->kind) {
      case Kind::unknown_user:
        state_->metrics.recipients_unknown.inc();
        if (!account_) security::report_recipient_probe(protocol_name(connection_->info().protocol), remote_ip(), sid(), *normalized);
        refuse_rcpt(*normalized, make_reply(550, "5.1.1", "Recipient address rejected: user unknown"), "user unknown");
        co_return;
      case Kind::loop:
        refuse_rcpt(*normalized, make_reply(550, "5.4.6", "Recipient address rejected: alias loop"), "alias loop");
        co_return;
      case Kind::not_local:
        if (!account_ && !state_->relay_networks.contains(remote_ip())) {
          state_->metrics.recipients_relay_denied.inc();
          refuse_rcpt(*normalized, make_reply(554, "5.7.1", "Relay access denied"), "relay denied");
          co_return;
        }
        break;
      case Kind::local:
        if (mailbox_full) {
          refuse_rcpt(*normalized, make_reply(452, "4.2.2", "Mailbox full, try again later"), "mailbox full");
          co_return;
        }
        break;
    }
    if (OutboundGuard* guard = outbound_guard()) {
      if (auto refused = co_await guard->check_rcpt(account_->address, *normalized, outbound_tally_)) {
        refuse_rcpt(*normalized, std::move(*refused), "outbound hold");
        co_return;
      }
    }
    state_->metrics.recipients_accepted.inc();
    recipients_.push_back({*normalized, e, std::move(*resolution)});
    engine_.accept_rcpt();
  }

  asio::awaitable<void> handle(engine_ns::DataBegin&) {
    // The trace fields start the stored message, so they are written first (see
    // MessageSpool); the time they stamp is when the data began.
    received_at_ = std::time(nullptr);
    spool_.start(delivery::trace_headers(trace_info()));
    if (verifies_senders()) {
      // (No co_await inside the call: g++ 12 destroys a braced temporary of such a
      // full-expression twice.)
      const asio::any_io_executor executor = co_await asio::this_coro::executor;
      const auto& envelope = engine_.envelope();
      mailauth::InboundIdentity identity{remote_ip(), engine_.helo_domain(),
                                         envelope.mail ? envelope.mail->reverse_path : ""};
      check_ = state_->deps.inbound->begin(std::move(identity), executor);
    }
    in_data_ = true;
    transfer_.data_started(TransferDeadline::Clock::now());
    engine_.accept_data();
    co_return;
  }

  delivery::TraceInfo trace_info() const {
    const auto& envelope = engine_.envelope();
    delivery::TraceInfo trace;
    trace.reverse_path = envelope.mail ? envelope.mail->reverse_path : "";
    trace.helo = engine_.helo_domain();
    trace.extended = engine_.extended();
    trace.client_ip = remote_ip();
    trace.hostname = hostname();
    trace.id = transaction_id_;
    trace.tls_version = connection_->stream().tls_version();
    trace.tls_cipher = connection_->stream().tls_cipher();
    trace.auth_user = user();
    trace.smtputf8 = envelope.mail && envelope.mail->smtputf8;
    trace.when = received_at_;
    for (const auto& accepted : recipients_) trace.recipients.push_back(accepted.address);
    return trace;
  }

  // Issue 14: mail other servers send (not submissions, not relay_networks) is checked.
  bool verifies_senders() const {
    return state_->deps.inbound != nullptr && config().mailauth.verify && !submission() && !account_ &&
           !state_->relay_networks.contains(remote_ip());
  }

  // Issue 15 §4: on port 25 the greeting may wait [filter] greet_pause_ms; an SMTP client
  // must wait for it (RFC 5321 §3.1), so one that talks first is spamware pushing its
  // commands blind. It gets 554 (no SMTP service here, §3.1) and the connection ends.
  asio::awaitable<bool> talks_before_greeting() {
    const auto pause = config().filter.greet_pause;
    if (pause.count() == 0 || submission() || state_->relay_networks.contains(remote_ip())) co_return false;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(pause);
    co_await timer.async_wait(asio::use_awaitable);
    std::error_code ec;
    const std::size_t waiting = connection_->stream().socket().available(ec);
    if (ec || waiting == 0) co_return false;
    log::info("smtp.pregreet", {{"sid", sid()}, {"remote", remote_ip()}, {"bytes", waiting}});
    metrics::registry()
        .counter("postamt_filter_verdicts_total", "Verdicts of the SMTP-time filters",
                 {{"filter", "pregreet"}, {"action", "reject"}})
        .inc();
    co_await connection_->write("554 5.7.1 " + hostname() + " You talked before the greeting, goodbye\r\n");
    log_end("pregreet");
    co_return true;
  }

  // Issue 15: the filters look at the same mail (whether or not mailauth.verify is on).
  bool filters_mail() const {
    return state_->deps.filters != nullptr && !submission() && !account_ &&
           !state_->relay_networks.contains(remote_ip());
  }

  filter::MessageFacts filter_facts() const {
    filter::MessageFacts facts;
    facts.queue_id = transaction_id_;
    facts.client_ip = remote_ip();
    facts.helo = engine_.helo_domain();
    facts.tls = connection_->stream().tls_active();
    const auto& envelope = engine_.envelope();
    facts.mail_from = envelope.mail ? envelope.mail->reverse_path : "";
    for (const auto& accepted : recipients_) facts.recipients.push_back(accepted.address);
    facts.our_hostname = hostname();
    return facts;
  }

  asio::awaitable<void> handle(engine_ns::MessageChunk& e) {
    if (check_) check_->feed(e.bytes);
    co_await spool_.append(e.bytes);
  }

  // Below the data disk's free-space floor (limits.min_free_disk_mb) nothing new is
  // accepted: RFC 3463 X.3.1, a temporary failure, so the client keeps the message.
  bool refuse_when_disk_low() {
    if (!storage::DiskSpace::data().below_floor()) return false;
    log::warn("smtp.disk_low", {{"sid", sid()}, {"free_bytes", storage::DiskSpace::data().free_bytes()}});
    engine_.reject(make_reply(452, "4.3.1", "Insufficient system storage"));
    return true;
  }

  void data_ended() {
    in_data_ = false;
    transfer_.data_ended();
  }

  asio::awaitable<void> handle(engine_ns::MessageAborted& e) {
    data_ended();
    state_->metrics.messages_aborted.inc();
    log::info("smtp.message_aborted", {{"sid", sid()}, {"id", transaction_id_}, {"reply", e.reply.text}});
    co_await spool_.discard();
  }

  // Refuses the message at the end of its data; its spool file goes with it.
  asio::awaitable<void> refuse_message(engine_ns::Reply reply, std::string_view event, std::string_view reason) {
    log::info(event, {{"sid", sid()},
                      {"id", transaction_id_},
                      {"remote", remote_ip()},
                      {"user", user()},
                      {"reason", reason},
                      {"reply", std::to_string(reply.code) + " " + reply.status}});
    engine_.reject(std::move(reply));
    co_await spool_.discard();
    reset_transaction();
  }

  // Submission (issue 13 §4): every author in From must be one the account may send as.
  asio::awaitable<std::optional<engine_ns::Reply>> check_from_header(const MessageHead& head) {
    if (!submission() || !account_ || !config().smtp.enforce_from_header) co_return std::nullopt;
    if (!head.complete) co_return make_reply(552, "5.6.0", "Message header too long to check its From field");
    const std::string account = account_->address;
    for (const auto& author : head.from_addresses) {
      auto owned = co_await state_->deps.pool.run(
          [&] { return sender_owned(state_->deps.store, config().smtp, author, account); });
      if (!owned) co_return make_reply(451, "4.3.0", "Temporary failure checking the sender, try again later");
      if (!*owned) {
        co_return make_reply(550, "5.7.1", "From header address <" + loggable(author) +
                                               "> is not one the authenticated user " + account + " may send as");
      }
    }
    co_return std::nullopt;
  }

  asio::awaitable<void> handle(engine_ns::MessageEnd& e) {
    data_ended();
    const auto started = std::chrono::steady_clock::now();
    if (storage::DiskSpace::data().below_floor()) {
      log::warn("smtp.disk_low", {{"sid", sid()}, {"free_bytes", storage::DiskSpace::data().free_bytes()}});
      co_await refuse_message(make_reply(452, "4.3.1", "Insufficient system storage"), "smtp.message_refused",
                              "free disk below limits.min_free_disk_mb");
      co_return;
    }
    if (spool_.error()) {
      log::error("smtp.spool_failed", {{"sid", sid()}, {"id", transaction_id_}, {"error", spool_.error()->message}});
      co_await refuse_message(make_reply(452, "4.3.1", "Insufficient system storage, try again later"),
                              "smtp.message_refused", "spool write failed");
      co_return;
    }
    const MessageHead head = read_message_head(spool_.head(), spool_.body_size() <= spool_.head().size());
    // RFC 5321 §6.3: more than kMaxHops Received fields means a mail loop (X.4.6).
    if (head.received_fields > delivery::kMaxHops) {
      co_await refuse_message(make_reply(554, "5.4.6", "Too many hops: the message is looping"), "smtp.mail_loop",
                              "too many Received fields");
      co_return;
    }
    if (auto refused = co_await check_from_header(head)) {
      const std::string reason = "From header: " + refused->text;
      co_await refuse_message(std::move(*refused), "smtp.message_refused", reason);
      co_return;
    }
    InboundVerdict verified;
    if (check_) {
      std::vector<std::string> addresses;
      for (const auto& accepted : recipients_) addresses.push_back(accepted.address);
      verified = co_await conclude_inbound_check(*check_, spool_.head(), addresses, config().mailauth);
      check_.reset();
      if (verified.refusal) {
        co_await refuse_message(std::move(*verified.refusal), "smtp.message_refused",
                                "sender authentication: " + verified.reason + " (" + verified.results + ")");
        co_return;
      }
    }
    FilterOutcome filtered;
    if (filters_mail()) {
      const filter::MessageFacts facts = filter_facts();
      std::vector<filter::Verdict> earlier;
      if (verified.result) earlier.push_back(mailauth_verdict(verified.results, verified.reason, verified.mailboxes));
      filtered = co_await run_inbound_filters(*state_->deps.filters, facts, std::move(earlier), spool_, verified.edit);
      if (filtered.refusal) {
        co_await refuse_message(std::move(*filtered.refusal), "smtp.message_refused",
                                "filter " + filtered.decided_by + ": " + filtered.summary);
        co_return;
      }
      if (filtered.junk) verified.mailboxes.assign(recipients_.size(), "Junk");
    }
    auto finished = co_await spool_.finish(verified.edit);
    if (!finished) {
      log::error("smtp.spool_failed", {{"sid", sid()}, {"id", transaction_id_}, {"error", finished.error().message}});
      co_await refuse_message(make_reply(452, "4.3.1", "Insufficient system storage, try again later"),
                              "smtp.message_refused", "spool write failed");
      co_return;
    }
    // Issue 14 §1: what a local account submits is DKIM-signed once, before it is stored;
    // §5: what arrives for an alias that forwards it leaves with our ARC seal.
    storage::StoreResult<void> added;
    if (submission() && account_ && state_->deps.dkim && head.from_fields == 1 && head.from_addresses.size() == 1) {
      const std::string& author = head.from_addresses.front();
      const std::string domain = auth::normalize_domain(author.substr(author.rfind('@') + 1)).value_or("");
      added = co_await sign_submission(*finished, spool_.trace_size(), domain, *state_->deps.dkim, state_->deps.blobs,
                                       state_->deps.pool);
    } else if (const std::string forwarder = forwarding_domain(recipients_); verified.result && !forwarder.empty()) {
      added = co_await seal_forwarded(*finished, spool_.trace_size(), forwarder, *verified.result,
                                      config().server.data_dir, state_->deps.blobs, state_->deps.pool);
    }
    if (!added) {
      log::error("smtp.spool_failed", {{"sid", sid()}, {"id", transaction_id_}, {"error", added.error().message}});
      if (finished->spooled) co_await state_->deps.pool.run([&] {
        finished->spooled.reset();
        return true;
      });
      co_await refuse_message(make_reply(452, "4.3.1", "Insufficient system storage, try again later"),
                              "smtp.message_refused", "spool write failed");
      co_return;
    }
    delivery::IncomingMessage message =
        incoming_message(engine_.envelope(), recipients_, verified.mailboxes, received_at_);
    std::vector<std::string> addresses;
    for (const auto& accepted : recipients_) addresses.push_back(accepted.address);
    message.content = std::move(finished->content);
    message.spooled = std::move(finished->spooled);
    const bool spooled = message.spooled != nullptr;
    const std::uint64_t stored_size = spooled ? message.spooled->size() : message.content.size();

    auto prepared = co_await state_->deps.pool.run([&] { return state_->preparer.prepare(message); });
    storage::StoreResult<storage::DeliveryOutcome> outcome = std::unexpected(storage::StorageError{});
    if (prepared) {
      // The account's hold keeps what it submitted in the queue.
      if (prepared->outbound && submission() && account_) prepared->outbound->account = account_->address;
      outcome = co_await state_->deps.committer.commit(*prepared);
    } else {
      outcome = std::unexpected(prepared.error());
    }
    // The spool file was renamed into the blob store, or (a failure) is deleted now.
    if (spooled) {
      co_await state_->deps.pool.run([&] {
        message.spooled.reset();
        return true;
      });
    }
    state_->metrics.delivery_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!outcome) {
      state_->metrics.messages_failed.inc();
      if (outcome.error().code == storage::StorageError::Code::quota_exceeded) {
        // RFC 3463 X.2.2: mailbox full. The message is not stored for anyone.
        log::info("smtp.over_quota", {{"sid", sid()}, {"id", transaction_id_}, {"error", outcome.error().message}});
        // With several recipients a permanent answer would lose the mail for the others.
        engine_.reject(recipients_.size() == 1
                           ? make_reply(552, "5.2.2", "Mailbox full: over the recipient's storage quota")
                           : make_reply(452, "4.2.2", "A recipient's mailbox is full, try again later"));
        reset_transaction();
        co_return;
      }
      log::error("smtp.delivery_failed", {{"sid", sid()}, {"id", transaction_id_}, {"error", outcome.error().message}});
      engine_.reject(make_reply(451, "4.3.0", "Local error storing the message, try again later"));
      reset_transaction();
      co_return;
    }
    if (OutboundGuard* guard = outbound_guard()) co_await guard->count_accepted(account_->address, addresses);
    ++messages_;
    state_->metrics.messages_accepted.inc();
    state_->metrics.bytes_accepted.inc(stored_size);
    // One line an operator can trace a message with (issue 13 §5).
    log::info("smtp.accepted", {{"sid", sid()},
                                {"id", transaction_id_},
                                {"remote", remote_ip()},
                                {"user", user()},
                                {"from", message.reverse_path},
                                {"rcpts", joined(addresses)},
                                {"size", e.size},
                                {"message_id", loggable(head.message_id)},
                                {"spooled", spooled ? "yes" : "no"},
                                {"auth", verified.results},
                                {"auth_note", verified.reason},
                                {"filter", filtered.summary},
                                {"local", outcome->stored.size()},
                                {"queued", outcome->queued ? outcome->queued->recipients.size() : 0}});
    engine_.message_stored(transaction_id_);
    reset_transaction();
  }

  asio::awaitable<void> handle(engine_ns::StartTls&) {
    if (!co_await flush()) co_return;
    auto upgraded = co_await connection_->start_tls();
    if (!upgraded) {
      log::info("tls.handshake_failed", {{"sid", sid()}, {"error", upgraded.error()}});
      engine_.shutdown(make_reply(421, "4.7.0", "TLS handshake failed"));
      co_return;
    }
    engine_.tls_started();
    // AUTH is offered only over TLS (unless plaintext is allowed): now it may be.
    if (auth_allowed_now(true)) engine_.set_auth_mechanisms({"PLAIN", "LOGIN"});
    reset_transaction();
  }

  asio::awaitable<void> handle(engine_ns::AuthBegin& e) {
    auto mechanism = proto::sasl::mechanism_from_name(e.mechanism);
    if (!mechanism) {
      engine_.auth_failed(make_reply(504, "5.5.4", "Unrecognized authentication type"));
      co_return;
    }
    sasl_.emplace(*mechanism);
    auto step = sasl_->start(e.initial_response ? std::optional<std::string_view>(
                                                      e.initial_response->empty() ? "=" : *e.initial_response)
                                                : std::nullopt);
    co_await handle_sasl_step(std::move(step));
  }

  asio::awaitable<void> handle(engine_ns::AuthResponse& e) {
    if (!sasl_) {
      engine_.auth_failed(make_reply(503, "5.5.1", "No authentication in progress"));
      co_return;
    }
    co_await handle_sasl_step(sasl_->respond(e.response));
  }

  asio::awaitable<void> handle(engine_ns::AuthCancelled&) {
    sasl_.reset();
    co_return;
  }

  asio::awaitable<void> handle_sasl_step(proto::sasl::Step step) {
    if (auto* challenge = std::get_if<proto::sasl::Challenge>(&step)) {
      engine_.auth_challenge(challenge->base64);
      co_return;
    }
    if (auto* failure = std::get_if<proto::sasl::Failure>(&step)) {
      sasl_.reset();
      if (failure->reason == proto::sasl::Failure::Reason::cancelled) {
        engine_.auth_failed(make_reply(501, "5.0.0", "Authentication cancelled"));
      } else {
        engine_.auth_failed(make_reply(501, "5.5.2", "Cannot decode the authentication response"));
      }
      co_return;
    }
    auto credentials = std::get<proto::sasl::Credentials>(std::move(step));
    sasl_.reset();
    const std::string ip = connection_->info().remote_ip;
    auto outcome = co_await state_->deps.authenticator.log_in(
        {"smtp", sid(), ip, credentials.authzid, credentials.authcid, credentials.password,
         &state_->metrics.auth_failures});
    using Result = auth::AuthOutcome::Result;
    switch (outcome.result) {
      case Result::ok:
        account_ = outcome.account;
        connection_->mark_authenticated();  // out of the pre-login connection caps
        log::info("smtp.auth", {{"sid", sid()}, {"user", account_->address}, {"remote", ip}});
        engine_.auth_succeeded(account_->address);
        co_return;
      case Result::temporary_failure:
        engine_.auth_failed(make_reply(454, "4.7.0", "Temporary authentication failure"));
        co_return;
      case Result::locked_out:
        engine_.auth_failed(make_reply(454, "4.7.0", "Too many authentication failures, try again later"));
        co_return;
      case Result::bad_credentials:
      case Result::disabled:
        break;
    }
    engine_.auth_failed(make_reply(535, "5.7.8", "Authentication credentials invalid"));
  }

  asio::awaitable<void> handle(engine_ns::Rset&) {
    reset_transaction();
    co_return;
  }

  asio::awaitable<void> handle(engine_ns::Quit&) {
    log_end("quit");
    co_return;
  }

  std::shared_ptr<net::Connection> connection_;
  std::shared_ptr<SmtpServiceState> state_;
  SmtpRole role_;
  engine_ns::ServerEngine engine_;
  std::optional<proto::sasl::ServerExchange> sasl_;
  std::optional<storage::AccountRecord> account_;
  OutboundTally outbound_tally_;  // this transaction's recipients, for the outbound limits
  std::vector<Accepted> recipients_;
  MessageSpool spool_;
  TransferDeadline transfer_;
  bool in_data_ = false;  // between DataBegin and MessageEnd/MessageAborted
  std::time_t received_at_ = 0;
  std::string transaction_id_;
  unsigned messages_ = 0;
  std::unique_ptr<mailauth::InboundCheck> check_;  // sender authentication of the message coming in
};

}  // namespace

asio::awaitable<void> run_smtp_session(std::shared_ptr<net::Connection> connection,
                                       std::shared_ptr<SmtpServiceState> state, SmtpRole role) {
  SmtpSession session(std::move(connection), std::move(state), role);
  co_await session.run();
}

}  // namespace postamt::smtp
