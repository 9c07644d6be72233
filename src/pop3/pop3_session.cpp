#include "pop3/pop3_session.hpp"

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "security/security_event.hpp"
#include "net/connection.hpp"
#include "pop3/pop3_service_state.hpp"
#include "proto/pop3/server_engine.hpp"
#include "proto/sasl/server_exchange.hpp"

namespace postamt::pop3 {
namespace {

namespace engine_ns = proto::pop3;

// RETR/TOP read the blob in pieces of this size, so a session holds at most one piece
// plus its stuffed copy, whatever the message size.
constexpr std::uint64_t kReadPiece = 256 * 1024;
// Clients RETR one message after the other: the trip to the storage pool that reads a
// small message also reads the ones after it, whole, up to a piece's size in all (and at
// most this many), so most RETRs are answered without a trip.
constexpr std::size_t kReadAheadMessages = 32;

// RFC 1939 §7 UIDL: unique per maildrop and never reused. UIDVALIDITY changes whenever
// UIDs could be reused, so the pair is unique for ever.
std::string unique_id(std::uint32_t uidvalidity, std::uint32_t uid) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%x.%x", uidvalidity, uid);
  return buffer;
}

std::string_view timeout_text(net::TimeoutReason reason) {
  switch (reason) {
    case net::TimeoutReason::command: return "Command too slow, closing";
    case net::TimeoutReason::login: return "Not logged in in time, closing";
    default: return "Idle for too long, closing";
  }
}

struct Snapshot {
  storage::Id mailbox_id = 0;
  std::uint32_t uidvalidity = 0;
  std::vector<storage::MessageRecord> messages;
};

class Pop3Session {
 public:
  Pop3Session(std::shared_ptr<net::Connection> connection, std::shared_ptr<Pop3ServiceState> state,
              bool tls_available)
      : connection_(std::move(connection)),
        state_(std::move(state)),
        tls_available_(tls_available),
        engine_(engine_options()) {}

  ~Pop3Session() {
    if (locked_account_) state_->locks.unlock(*locked_account_);
  }

  Pop3Session(const Pop3Session&) = delete;
  Pop3Session& operator=(const Pop3Session&) = delete;

  asio::awaitable<void> run() {
    engine_.start();
    connection_->set_login_deadline(config().limits.login_timeout);
    for (;;) {
      while (auto event = engine_.next_event()) {
        co_await std::visit([this](auto& e) { return handle(e); }, *event);
        if (broken_) {
          log_end("broken");
          co_return;
        }
      }
      // Stopped because the answers pile up, not for want of input: write them (at the
      // client's pace), then go on with the commands already here.
      const bool held_back = engine_.output_backlogged();
      if (!co_await flush()) co_return;
      if (engine_.wants_close()) {
        // Issue 15 §8: closed for too many protocol errors ("-ERR Too many errors").
        if (const unsigned limit = engine_options().max_errors; limit != 0 && engine_.errors() >= limit) {
          security::report_protocol_abuse("pop3", connection_->info().remote_ip, sid(), engine_.errors());
        }
        co_return;
      }
      if (held_back) continue;
      connection_->set_command_incomplete(engine_.partial_input());
      auto bytes = co_await connection_->read_some();
      if (!bytes) {
        switch (bytes.error()) {
          case net::ReadError::timeout:
            engine_.shutdown(timeout_text(connection_->timeout_reason()));
            co_await flush();
            break;
          case net::ReadError::shutdown:
            engine_.shutdown("Server shutting down");
            co_await flush();
            break;
          default:
            break;
        }
        log_end(net::read_error_name(bytes.error()));
        co_return;
      }
      engine_.receive(*bytes);
    }
  }

 private:
  const Config& config() const { return state_->deps.config; }
  std::uint64_t sid() const { return connection_->info().session_id; }
  bool auth_allowed(bool tls_active) const { return tls_active || config().auth.allow_plaintext_without_tls; }

  engine_ns::ServerOptions engine_options() const {
    engine_ns::ServerOptions options;
    const bool tls_active = connection_->stream().tls_active();
    options.tls_active = tls_active;
    options.starttls_available = tls_available_ && !tls_active;
    options.auth_allowed = auth_allowed(tls_active);
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
    log::debug("pop3.end", {{"sid", sid()}, {"why", why}, {"user", user_}});
  }

  // --- authentication

  asio::awaitable<void> handle(engine_ns::Login& e) {
    co_await check_credentials("", e.user, e.password);
  }

  asio::awaitable<void> handle(engine_ns::AuthBegin& e) {
    auto mechanism = proto::sasl::mechanism_from_name(e.mechanism);
    if (!mechanism) {
      engine_.login_failed("Unsupported authentication mechanism");
      co_return;
    }
    sasl_.emplace(*mechanism);
    co_await sasl_step(sasl_->start(e.initial_response));
  }

  asio::awaitable<void> handle(engine_ns::AuthResponse& e) {
    if (!sasl_) {
      engine_.login_failed("No authentication in progress");
      co_return;
    }
    co_await sasl_step(sasl_->respond(e.response));
  }

  asio::awaitable<void> handle(engine_ns::AuthCancelled&) {
    sasl_.reset();
    co_return;
  }

  asio::awaitable<void> sasl_step(proto::sasl::Step step) {
    if (auto* challenge = std::get_if<proto::sasl::Challenge>(&step)) {
      engine_.auth_challenge(challenge->base64);
      co_return;
    }
    if (auto* failure = std::get_if<proto::sasl::Failure>(&step)) {
      sasl_.reset();
      engine_.login_failed(failure->reason == proto::sasl::Failure::Reason::cancelled
                               ? "Authentication cancelled"
                               : "[AUTH] Cannot decode the authentication response");
      co_return;
    }
    auto credentials = std::get<proto::sasl::Credentials>(std::move(step));
    sasl_.reset();
    co_await check_credentials(credentials.authzid, credentials.authcid, credentials.password);
  }

  asio::awaitable<void> check_credentials(const std::string& authzid, const std::string& authcid,
                                          const std::string& password) {
    const std::string ip = connection_->info().remote_ip;
    auto outcome = co_await state_->deps.authenticator.log_in(
        {"pop3", sid(), ip, authzid, authcid, password, &state_->metrics.auth_failures});
    using Result = auth::AuthOutcome::Result;
    switch (outcome.result) {
      case Result::ok:
        co_await open_maildrop(outcome.account);
        co_return;
      case Result::temporary_failure:
        engine_.login_failed("[SYS/TEMP] Temporary authentication failure, try again later");
        co_return;
      case Result::locked_out:
        engine_.login_failed("[SYS/TEMP] Too many authentication failures from your address, try again later");
        co_return;
      case Result::bad_credentials:
      case Result::disabled:
        break;
    }
    engine_.login_failed("[AUTH] Authentication failed");
  }

  // RFC 1939 §8: lock the maildrop, then take the snapshot the session works on.
  asio::awaitable<void> open_maildrop(const storage::AccountRecord& account) {
    if (!state_->locks.try_lock(account.id)) {
      state_->metrics.in_use.inc();
      log::info("pop3.in_use", {{"sid", sid()}, {"user", account.address}});
      engine_.login_failed("[IN-USE] Maildrop is locked by another POP3 session");
      co_return;
    }
    locked_account_ = account.id;
    const storage::Id account_id = account.id;
    auto snapshot = co_await state_->deps.pool.run([&]() -> storage::StoreResult<Snapshot> {
      auto inbox = state_->deps.store.find_mailbox(account_id, "INBOX");
      if (!inbox) return std::unexpected(inbox.error());
      auto messages = state_->deps.store.list_messages(inbox->id);
      if (!messages) return std::unexpected(messages.error());
      return Snapshot{inbox->id, inbox->uidvalidity, std::move(*messages)};
    });
    if (!snapshot) {
      state_->locks.unlock(account.id);
      locked_account_.reset();
      log::error("pop3.maildrop_failed", {{"sid", sid()}, {"user", account.address}, {"error", snapshot.error().message}});
      engine_.login_failed("[SYS/TEMP] Cannot open the maildrop, try again later");
      co_return;
    }
    snapshot_ = std::move(*snapshot);
    user_ = account.address;
    std::vector<engine_ns::MaildropEntry> entries;
    entries.reserve(snapshot_.messages.size());
    for (const auto& message : snapshot_.messages) {
      entries.push_back({message.size, unique_id(snapshot_.uidvalidity, message.uid)});
    }
    connection_->mark_authenticated();
    state_->metrics.logins.inc();
    log::info("pop3.login", {{"sid", sid()}, {"user", user_}, {"messages", entries.size()},
                             {"remote", connection_->info().remote_ip}});
    engine_.login_succeeded(std::move(entries));
  }

  // --- messages

  // Reads message `index` whole (it fits one piece) and the small ones after it, up to one
  // piece's size in all, into read_ahead_; the asked one is returned. Only a failure to
  // read the asked message is an error: the read-ahead stops at the first other failure.
  asio::awaitable<storage::StoreResult<std::string>> read_small_with_followers(std::size_t index) {
    std::vector<std::size_t> batch{index};
    std::uint64_t total = snapshot_.messages[index].size;
    for (std::size_t next = index + 1;
         next < snapshot_.messages.size() && batch.size() < kReadAheadMessages; ++next) {
      total += snapshot_.messages[next].size;
      if (total > kReadPiece) break;
      batch.push_back(next);
    }
    std::vector<std::string> contents;
    auto first = co_await state_->deps.pool.run([&]() -> storage::StoreResult<std::string> {
      std::optional<std::string> asked;
      for (const std::size_t i : batch) {
        const storage::MessageRecord& record = snapshot_.messages[i];
        auto bytes = state_->deps.blobs.read_range(record.blob_id, 0, record.size);
        if (!bytes) {
          if (!asked) return std::unexpected(bytes.error());
          break;
        }
        if (!asked) {
          asked = std::move(*bytes);
        } else {
          contents.push_back(std::move(*bytes));
        }
      }
      return std::move(*asked);
    });
    for (std::size_t k = 0; k < contents.size(); ++k) read_ahead_[batch[k + 1]] = std::move(contents[k]);
    co_return first;
  }

  asio::awaitable<void> handle(engine_ns::Retrieve& e) {
    const storage::MessageRecord& message = snapshot_.messages.at(e.index);
    const std::string& blob_id = message.blob_id;
    std::optional<std::string> ahead;
    if (auto it = read_ahead_.find(e.index); it != read_ahead_.end()) ahead = std::move(it->second);
    read_ahead_.erase(read_ahead_.begin(), read_ahead_.upper_bound(e.index));  // it and earlier ones
    std::uint64_t offset = 0;
    bool first = true;
    for (;;) {
      // Pieces of the size the scan listing announced (the blob's size): no read asks for
      // more than is there.
      const std::uint64_t want = std::min<std::uint64_t>(kReadPiece, message.size - std::min<std::uint64_t>(offset, message.size));
      storage::StoreResult<std::string> piece;
      if (first && ahead) {
        piece = std::move(*ahead);
      } else if (first && message.size <= kReadPiece) {
        piece = co_await read_small_with_followers(e.index);
      } else {
        piece = co_await state_->deps.pool.run(
            [&] { return state_->deps.blobs.read_range(blob_id, offset, want); });
      }
      if (!piece) {
        log::error("pop3.read_failed", {{"sid", sid()}, {"blob", blob_id}, {"error", piece.error().message}});
        if (first) {
          engine_.retrieve_failed("[SYS/TEMP] Cannot read the message, try again later");
        } else {
          broken_ = true;  // half a message is out: the only honest end is to close
        }
        co_return;
      }
      if (first) {
        engine_.begin_message();
        first = false;
      }
      offset += piece->size();
      const bool last = piece->size() < want || offset >= message.size;
      engine_.message_data(*piece);
      piece->clear();
      if (last || engine_.message_complete()) break;
      if (!co_await flush()) {
        broken_ = true;
        co_return;
      }
    }
    engine_.end_message();
    if (!e.top_lines) state_->metrics.messages_retrieved.inc();
  }

  // --- UPDATE (RFC 1939 §6): the marked messages go in one store call.
  asio::awaitable<void> handle(engine_ns::Update& e) {
    if (!e.deleted.empty()) {
      std::vector<std::uint32_t> uids;
      uids.reserve(e.deleted.size());
      for (std::size_t index : e.deleted) uids.push_back(snapshot_.messages.at(index).uid);
      const storage::Id mailbox_id = snapshot_.mailbox_id;
      auto removed = co_await state_->deps.pool.run(
          [&]() -> storage::StoreResult<bool> {
            auto done = state_->deps.store.expunge(mailbox_id, uids);
            if (!done) return std::unexpected(done.error());
            return true;
          });
      if (!removed) {
        log::error("pop3.update_failed", {{"sid", sid()}, {"user", user_}, {"error", removed.error().message}});
        engine_.update_failed("[SYS/TEMP] Some deleted messages not removed, try again later");
        co_return;
      }
      state_->metrics.messages_deleted.inc(uids.size());
      log::info("pop3.update", {{"sid", sid()}, {"user", user_}, {"deleted", uids.size()}});
    }
    engine_.update_done();
  }

  // --- STLS (RFC 2595 §4)
  asio::awaitable<void> handle(engine_ns::StartTls&) {
    if (!co_await flush()) {
      broken_ = true;
      co_return;
    }
    auto upgraded = co_await connection_->start_tls();
    if (!upgraded) {
      log::info("tls.handshake_failed", {{"sid", sid()}, {"error", upgraded.error()}});
      broken_ = true;
      co_return;
    }
    engine_.tls_started(auth_allowed(true));
  }

  asio::awaitable<void> handle(engine_ns::Quit&) {
    log_end("quit");
    co_return;
  }

  std::shared_ptr<net::Connection> connection_;
  std::shared_ptr<Pop3ServiceState> state_;
  bool tls_available_;
  engine_ns::ServerEngine engine_;
  std::optional<proto::sasl::ServerExchange> sasl_;
  std::optional<storage::Id> locked_account_;
  Snapshot snapshot_;
  std::map<std::size_t, std::string> read_ahead_;  // message index -> its content (whole)
  std::string user_;
  bool broken_ = false;
};

}  // namespace

asio::awaitable<void> run_pop3_session(std::shared_ptr<net::Connection> connection,
                                       std::shared_ptr<Pop3ServiceState> state, bool tls_available) {
  Pop3Session session(std::move(connection), std::move(state), tls_available);
  co_await session.run();
}

}  // namespace postamt::pop3
