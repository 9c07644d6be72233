// ImapSession: the command loop, replies, authentication and the commands of any state.
#include "imap/session.hpp"

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <type_traits>

#include "base/log.hpp"
#include "security/security_event.hpp"
#include "net/connection.hpp"
#include "proto/imap/tokenizer.hpp"

namespace postamt::imap {
namespace {

namespace p = proto::imap;

// Before login only literals for LOGIN and AUTHENTICATE are needed (RFC 7888 §4 lets a
// server refuse others): one unauthenticated connection holds at most this much.
constexpr std::uint64_t kLiteralLimitBeforeLogin = 8 * 1024;
constexpr std::uint64_t kCommandLimitBeforeLogin = 64 * 1024;
// After login an APPEND literal of at least this size goes to a file (AppendSpool).
constexpr std::uint64_t kAppendSpillThreshold = 256 * 1024;

// After this many BAD replies in a row the client is dropped.
constexpr int kMaxErrorsInARow = 10;
// RFC 9051 §5.4: an authenticated client may stay silent for at least 30 minutes.
constexpr std::chrono::seconds kAuthenticatedIdleTimeout{31 * 60};

enum class Needs { any, not_authenticated, authenticated, selected };

template <class C>
constexpr Needs state_needed() {
  using namespace proto::imap;
  if constexpr (std::is_same_v<C, CapabilityCommand> || std::is_same_v<C, NoopCommand> ||
                std::is_same_v<C, LogoutCommand> || std::is_same_v<C, IdCommand>) {
    return Needs::any;
  } else if constexpr (std::is_same_v<C, StartTlsCommand> || std::is_same_v<C, LoginCommand> ||
                       std::is_same_v<C, AuthenticateCommand>) {
    return Needs::not_authenticated;
  } else if constexpr (std::is_same_v<C, CloseCommand> || std::is_same_v<C, UnselectCommand> ||
                       std::is_same_v<C, CheckCommand> || std::is_same_v<C, ExpungeCommand> ||
                       std::is_same_v<C, UidExpungeCommand> || std::is_same_v<C, FetchCommand> ||
                       std::is_same_v<C, StoreCommand> || std::is_same_v<C, CopyCommand> ||
                       std::is_same_v<C, SearchCommand> || std::is_same_v<C, SortCommand> ||
                       std::is_same_v<C, ThreadCommand>) {
    return Needs::selected;
  } else {
    return Needs::authenticated;
  }
}

// RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH (the UID forms may);
// SORT and THREAD are SEARCH's kin (RFC 5256 §3).
bool may_announce_expunges(const p::AnyCommand& command) {
  if (auto* fetch = std::get_if<p::FetchCommand>(&command)) return fetch->uid;
  if (auto* store = std::get_if<p::StoreCommand>(&command)) return store->uid;
  if (auto* search = std::get_if<p::SearchCommand>(&command)) return search->uid;
  if (auto* sort = std::get_if<p::SortCommand>(&command)) return sort->uid;
  if (auto* thread = std::get_if<p::ThreadCommand>(&command)) return thread->uid;
  return true;
}

std::string first_word(const p::Command& command) {
  if (command.lines.empty()) return {};
  const std::string& line = command.lines.front();
  return line.substr(0, std::min(line.find(' '), line.size()));
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string timeout_text(net::TimeoutReason reason) {
  switch (reason) {
    case net::TimeoutReason::command: return "BYE Command sent too slowly";
    case net::TimeoutReason::login: return "BYE Not logged in in time";
    default: return "BYE Autologout; idle for too long";
  }
}

}  // namespace

ImapSession::ImapSession(std::shared_ptr<net::Connection> connection,
                         std::shared_ptr<ImapServiceState> state, bool tls_available)
    : connection_(std::move(connection)),
      state_(std::move(state)),
      tls_available_(tls_available),
      reader_(reader_limits(false)) {}

p::ReaderLimits ImapSession::reader_limits(bool authenticated) const {
  p::ReaderLimits limits;
  limits.max_line_length = state_->deps.config.limits.max_line_length;
  if (!authenticated) {
    limits.max_literal_size = kLiteralLimitBeforeLogin;
    limits.max_command_size = kCommandLimitBeforeLogin;
    return limits;
  }
  limits.max_literal_size = state_->deps.config.smtp.max_message_size;
  limits.max_command_size = state_->deps.config.smtp.max_message_size + 1024 * 1024;
  limits.spill_threshold = kAppendSpillThreshold;
  return limits;
}

ImapSession::~ImapSession() { deselect(); }

std::uint64_t ImapSession::sid() const { return connection_->info().session_id; }

ViewOptions ImapSession::view_options() const {
  return ViewOptions{imap4rev2_, condstore_, qresync_};
}

std::string ImapSession::capabilities() const {
  std::string caps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE";
  if (state_kind_ == State::not_authenticated) {
    const bool tls_active = connection_->stream().tls_active();
    if (tls_available_ && !tls_active) caps += " STARTTLS";
    if (tls_active || state_->deps.config.auth.allow_plaintext_without_tls) {
      caps += " AUTH=PLAIN AUTH=LOGIN";
    } else {
      caps += " LOGINDISABLED";
    }
    return caps;
  }
  caps += " IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE"
          " ESEARCH SEARCHRES SORT SORT=DISPLAY ESORT PARTIAL THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
          " BINARY CONDSTORE QRESYNC UTF8=ACCEPT STATUS=SIZE QUOTA"
          " QUOTA=RES-STORAGE COMPRESS=DEFLATE APPENDLIMIT=" +
          std::to_string(reader_.limits().max_literal_size);
  return caps;
}

void ImapSession::ok(const Tag& tag, std::string_view text) {
  errors_in_a_row_ = 0;
  tagged_ += tag + " OK " + std::string(text) + "\r\n";
}

void ImapSession::no(const Tag& tag, std::string_view text) {
  errors_in_a_row_ = 0;
  tagged_ += tag + " NO " + std::string(text) + "\r\n";
}

void ImapSession::bad(const Tag& tag, std::string_view text) {
  ++errors_in_a_row_;
  tagged_ += (tag.empty() ? std::string("*") : tag) + " BAD " + std::string(text) + "\r\n";
}

void ImapSession::untagged(std::string_view text) {
  out_ += "* ";
  out_ += text;
  out_ += "\r\n";
}

asio::awaitable<bool> ImapSession::flush() {
  out_ += tagged_;
  tagged_.clear();
  if (out_.empty()) co_return true;
  const bool written = co_await connection_->write(out_);
  out_.clear();
  if (out_.capacity() > 256 * 1024) out_.shrink_to_fit();  // a big FETCH does not stay resident
  if (!written) broken_ = true;
  co_return written;
}

asio::awaitable<void> ImapSession::run() {
  connection_->set_login_deadline(state_->deps.config.limits.login_timeout);
  untagged("OK [CAPABILITY " + capabilities() + "] Postamt ready");
  if (!co_await flush()) co_return;
  for (;;) {
    while (!broken_ && state_kind_ != State::logout) {
      auto event = reader_.next_event();
      if (!event) break;
      if (auto* command = std::get_if<p::Command>(&*event)) {
        co_await on_command(std::move(*command));
      } else if (auto* bytes = std::get_if<p::LiteralBytes>(&*event)) {
        spool_literal(bytes->data);
      } else if (auto* need = std::get_if<p::NeedContinuation>(&*event)) {
        if (on_continuation_request(*need)) {
          out_ += "+ Ready for literal data\r\n";
          reader_.continue_literal();
        } else {
          reader_.reject_literal();
          drop_spooled_literal();  // the whole command goes, its spilled literal with it
        }
      } else {
        co_await on_reader_error(std::get<p::ReaderError>(*event));
      }
      if (errors_in_a_row_ >= kMaxErrorsInARow) {
        out_ += tagged_;  // the last BAD first, then the goodbye
        tagged_.clear();
        untagged("BYE Too many invalid commands");
        state_kind_ = State::logout;
        security::report_protocol_abuse("imap", connection_->info().remote_ip, sid(),
                                        static_cast<unsigned>(errors_in_a_row_));
      }
      if (!co_await flush()) co_return;
    }
    if (broken_ || state_kind_ == State::logout || reader_.closed()) co_return;
    // The slow-client clock runs while a command is half here (net::Connection).
    connection_->set_command_incomplete(reader_.buffered_input() > 0 || reader_.command_bytes() > 0);
    auto bytes = co_await connection_->read_some();
    if (!bytes) {
      switch (bytes.error()) {
        case net::ReadError::timeout:
          untagged(timeout_text(connection_->timeout_reason()));
          co_await flush();
          break;
        case net::ReadError::shutdown:
          untagged("BYE [UNAVAILABLE] Server shutting down");
          co_await flush();
          break;
        default:
          break;
      }
      log::debug("imap.end", {{"sid", sid()}, {"why", net::read_error_name(bytes.error())}});
      co_return;
    }
    reader_.receive(*bytes);
  }
}

// RFC 9051 §7.5 / RFC 7888: "+" only for a command that can still succeed. A literal for a
// command not allowed in this state, or after a bad tag, is refused before the client sends it.
bool ImapSession::on_continuation_request(const p::NeedContinuation& need) {
  const p::Command& pending = reader_.pending_command();
  std::string name;
  if (!pending.lines.empty()) {
    const std::string& line = pending.lines.front();
    const auto space = line.find(' ');
    if (space != std::string::npos) {
      name = upper(line.substr(space + 1, line.find(' ', space + 1) - space - 1));
    }
  }
  if (!p::is_valid_tag(need.tag)) {
    bad("", "Invalid tag");
    return false;
  }
  if (name.empty()) {
    bad(need.tag, "Missing command name");
    return false;
  }
  // Commands whose arguments may hold a literal, by the state they need.
  static constexpr std::string_view kBeforeLogin[] = {"LOGIN", "AUTHENTICATE"};
  static constexpr std::string_view kAnyState[] = {"ID"};
  static constexpr std::string_view kSelected[] = {"SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID"};
  static constexpr std::string_view kAuthenticated[] = {
      "APPEND", "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE",
      "LIST", "LSUB", "STATUS", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "ENABLE"};
  const auto listed = [&](auto& names) { return std::find(std::begin(names), std::end(names), name) != std::end(names); };
  const bool authenticated = state_kind_ == State::authenticated || state_kind_ == State::selected;
  if (listed(kAnyState)) return true;
  if (listed(kBeforeLogin)) {
    if (authenticated) bad(need.tag, "Already authenticated");
    return !authenticated;
  }
  if (listed(kAuthenticated)) {
    if (!authenticated) bad(need.tag, "Log in first");
    return authenticated;
  }
  if (listed(kSelected)) {
    if (state_kind_ != State::selected) bad(need.tag, authenticated ? "No mailbox selected" : "Log in first");
    return state_kind_ == State::selected;
  }
  bad(need.tag, "Unknown command " + name.substr(0, 40));
  return false;
}

asio::awaitable<void> ImapSession::on_reader_error(const p::ReaderError& error) {
  log::info("imap.input_refused", {{"sid", sid()}, {"why", error.reason()}});
  drop_spooled_literal();  // a refused command's spilled literal must not reach the next one
  const Tag tag = p::is_valid_tag(error.tag) ? error.tag : "";
  const bool authenticated = state_kind_ == State::authenticated || state_kind_ == State::selected;
  if (error.kind == p::ReaderErrorKind::literal_too_big && !authenticated) {
    // RFC 7888 §4: refused without "+"; a non-synchronising one ends the connection below.
    bad(tag, "[TOOBIG] Literals over " + std::to_string(kLiteralLimitBeforeLogin) +
                 " octets are accepted only after login");
  } else if (error.kind == p::ReaderErrorKind::literal_too_big && !error.fatal) {
    // RFC 7889: an APPEND over APPENDLIMIT is refused with NO [TOOBIG].
    if (tag.empty()) {
      bad(tag, error.reason());
    } else {
      no(tag, "[TOOBIG] Message too big: the limit is " +
                  std::to_string(reader_.limits().max_literal_size) + " octets");
    }
  } else {
    bad(tag, error.reason());
  }
  if (error.fatal) {
    untagged("BYE [TOOBIG] Input out of sync, closing");
    state_kind_ = State::logout;
  }
  co_return;
}

// A big APPEND literal arriving: to the spool file, not memory. The command that follows
// finds it in spool_ (handle(AppendCommand)); on_command drops it afterwards.
void ImapSession::spool_literal(std::string_view bytes) {
  if (!spool_error_.empty()) return;  // the command will answer NO
  if (!spool_) {
    auto created = AppendSpool::create(state_->deps.config.server.data_dir / "tmp");
    if (!created) {
      log::error("imap.spool_failed", {{"sid", sid()}, {"error", created.error()}});
      spool_error_ = created.error();
      return;
    }
    spool_.emplace(std::move(*created));
  }
  spool_->write(bytes);
}

asio::awaitable<void> ImapSession::on_command(p::Command&& framed) {
  co_await run_command(std::move(framed));
  drop_spooled_literal();
}

void ImapSession::drop_spooled_literal() {
  spool_.reset();
  spool_error_.clear();
}

asio::awaitable<void> ImapSession::run_command(p::Command&& framed) {
  const std::string sent_tag = first_word(framed);
  auto tokens = p::tokenize(std::move(framed));
  if (!tokens) {
    bad(p::is_valid_tag(sent_tag) ? sent_tag : "", tokens.error());
    co_return;
  }
  auto typed = p::parse_command(std::move(*tokens));
  if (!typed) {
    bad(typed.error().tag, typed.error().message);
    co_return;
  }
  state_->metrics.commands.inc();
  const bool had_condstore = condstore_;
  co_await dispatch(typed->tag, typed->command);
  // Other sessions' changes go out before the tagged reply (RFC 9051 §7.5.1 rules); after
  // LOGOUT's BYE nothing but the tagged OK may follow (RFC 9051 §6.1.3).
  if (selected_ && !broken_ && state_kind_ != State::logout &&
      may_announce_expunges(typed->command)) {
    co_await synchronize(false);
  }
  // RFC 7162 §3.1: a CONDSTORE-enabling command while a mailbox is selected reports the
  // mailbox's HIGHESTMODSEQ (SELECT/EXAMINE already did).
  if (!had_condstore && condstore_ && selected_ && state_kind_ == State::selected &&
      !std::holds_alternative<p::SelectCommand>(typed->command)) {
    report_highest_modseq(typed->tag);
  }
}

// In the tagged OK when it has no response code of its own, else as an untagged OK.
void ImapSession::report_highest_modseq(const Tag& tag) {
  const std::string code = "[HIGHESTMODSEQ " + std::to_string(selected_->highest_modseq()) + "]";
  const std::string ok_prefix = tag + " OK ";
  if (tagged_.starts_with(ok_prefix) && tagged_.size() > ok_prefix.size() &&
      tagged_[ok_prefix.size()] != '[') {
    tagged_.insert(ok_prefix.size(), code + " ");
  } else if (tagged_.starts_with(ok_prefix)) {
    untagged("OK " + code + " Highest");
  }
}

asio::awaitable<void> ImapSession::dispatch(const Tag& tag, p::AnyCommand& command) {
  co_await std::visit(
      [&](auto& c) -> asio::awaitable<void> {
        using C = std::decay_t<decltype(c)>;
        constexpr Needs needs = state_needed<C>();
        const bool authenticated =
            state_kind_ == State::authenticated || state_kind_ == State::selected;
        if constexpr (needs == Needs::not_authenticated) {
          if (authenticated) {
            bad(tag, "Already authenticated");
            co_return;
          }
        } else if constexpr (needs == Needs::authenticated) {
          if (!authenticated) {
            bad(tag, "Log in first");
            co_return;
          }
        } else if constexpr (needs == Needs::selected) {
          if (state_kind_ != State::selected) {
            bad(tag, authenticated ? "No mailbox selected" : "Log in first");
            co_return;
          }
        }
        co_await handle(tag, c);
      },
      command);
}

// --- any state

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::CapabilityCommand&) {
  untagged("CAPABILITY " + capabilities());
  ok(tag, "CAPABILITY completed");
  co_return;
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::NoopCommand&) {
  // RFC 9051 §6.1.2: the natural moment to report changes, so look even without a signal.
  if (selected_) co_await synchronize(true);
  ok(tag, "NOOP completed");
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::CheckCommand&) {
  if (selected_) co_await synchronize(true);
  ok(tag, "CHECK completed");  // every change is durable when made; nothing to do
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::LogoutCommand&) {
  untagged("BYE Logging out");
  ok(tag, "LOGOUT completed");
  state_kind_ = State::logout;
  co_return;
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::IdCommand& command) {
  // RFC 2971: the client's fields are for the log only.
  std::string client;
  for (const auto& [field, value] : command.parameters) {
    if (!client.empty()) client += ' ';
    client += field + "=" + value.value_or("NIL");
    if (client.size() > 256) break;
  }
  if (!client.empty()) log::debug("imap.client_id", {{"sid", sid()}, {"id", client}});
  untagged("ID (\"name\" \"Postamt\" \"vendor\" \"Postamt\")");
  ok(tag, "ID completed");
  co_return;
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::NamespaceCommand&) {
  // RFC 2342: one personal namespace, no prefix, "/" as the hierarchy delimiter.
  untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
  ok(tag, "NAMESPACE completed");
  co_return;
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::EnableCommand& command) {
  if (state_kind_ != State::authenticated) {
    bad(tag, "ENABLE is only valid before a mailbox is selected");  // RFC 5161 §3.1
    co_return;
  }
  std::string enabled;
  auto add = [&](std::string_view name) {
    enabled += ' ';
    enabled += name;
  };
  for (const auto& capability : command.capabilities) {
    if (capability == "IMAP4REV2" && !imap4rev2_) {
      imap4rev2_ = true;
      add("IMAP4rev2");
    } else if (capability == "CONDSTORE" && !condstore_) {
      condstore_ = true;
      add("CONDSTORE");
    } else if (capability == "QRESYNC" && !qresync_) {
      qresync_ = true;
      if (!condstore_) add("CONDSTORE");  // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE
      condstore_ = true;
      add("QRESYNC");
    } else if (capability == "UTF8=ACCEPT" && !utf8_accept_) {
      utf8_accept_ = true;
      add("UTF8=ACCEPT");
    }
  }
  untagged("ENABLED" + enabled);
  ok(tag, "ENABLE completed");
  co_return;
}

// RFC 4978 §3: the tagged OK goes out uncompressed; from the byte after its CRLF both
// directions are raw DEFLATE streams (under TLS when TLS is on).
asio::awaitable<void> ImapSession::handle(const Tag& tag, p::CompressCommand& command) {
  if (connection_->compression_active()) {
    no(tag, "[COMPRESSIONACTIVE] DEFLATE is already active");
    co_return;
  }
  if (command.mechanism != "DEFLATE") {
    bad(tag, "Unknown compression mechanism");
    co_return;
  }
  ok(tag, "DEFLATE active");
  if (!co_await flush()) co_return;
  // The client compresses only once it has the OK: anything it pipelined is not DEFLATE.
  reader_.discard_buffered();
  if (auto started = connection_->start_compression(); !started) {
    log::warn("imap.compress_failed", {{"sid", sid()}, {"error", started.error()}});
    broken_ = true;  // the client already compresses; there is no way back
    co_return;
  }
  log::debug("imap.compress", {{"sid", sid()}, {"mechanism", "DEFLATE"}});
}

// --- not authenticated

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::StartTlsCommand&) {
  if (!tls_available_ || connection_->stream().tls_active()) {
    bad(tag, connection_->stream().tls_active() ? "TLS is already active" : "STARTTLS is not available");
    co_return;
  }
  ok(tag, "Begin TLS negotiation now");
  if (!co_await flush()) co_return;
  auto upgraded = co_await connection_->start_tls();
  if (!upgraded) {
    log::info("tls.handshake_failed", {{"sid", sid()}, {"error", upgraded.error()}});
    broken_ = true;
    co_return;
  }
  reader_.discard_buffered();  // RFC 9051 §6.2.1: nothing pipelined before TLS counts
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::LoginCommand& command) {
  if (!connection_->stream().tls_active() && !state_->deps.config.auth.allow_plaintext_without_tls) {
    no(tag, "[PRIVACYREQUIRED] Use STARTTLS or the IMAPS port to log in");
    co_return;
  }
  co_await check_credentials(tag, "", command.user, command.password);
}

asio::awaitable<std::optional<std::string>> ImapSession::read_sasl_line() {
  for (;;) {
    if (auto line = reader_.next_raw_line()) {
      if (!*line) co_return std::nullopt;
      co_return std::move(**line);
    }
    connection_->set_command_incomplete(reader_.buffered_input() > 0);
    auto bytes = co_await connection_->read_some();
    if (!bytes) {
      broken_ = true;
      co_return std::nullopt;
    }
    reader_.receive(*bytes);
  }
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::AuthenticateCommand& command) {
  if (!connection_->stream().tls_active() && !state_->deps.config.auth.allow_plaintext_without_tls) {
    no(tag, "[PRIVACYREQUIRED] Use STARTTLS or the IMAPS port to log in");
    co_return;
  }
  auto mechanism = proto::sasl::mechanism_from_name(command.mechanism);
  if (!mechanism) {
    no(tag, "[CANNOT] Unsupported authentication mechanism");
    co_return;
  }
  proto::sasl::ServerExchange exchange(*mechanism);
  auto step = exchange.start(command.initial_response);
  for (;;) {
    if (auto* challenge = std::get_if<proto::sasl::Challenge>(&step)) {
      out_ += "+ " + challenge->base64 + "\r\n";
      if (!co_await flush()) co_return;
      auto line = co_await read_sasl_line();
      if (broken_) co_return;
      if (!line) {
        bad(tag, "Authentication response too long");
        co_return;
      }
      step = exchange.respond(*line);
      continue;
    }
    if (auto* failure = std::get_if<proto::sasl::Failure>(&step)) {
      // RFC 9051 §6.2.2: a "*" cancels with BAD; an undecodable response is also BAD.
      bad(tag, failure->reason == proto::sasl::Failure::Reason::cancelled
                   ? "Authentication cancelled"
                   : "Cannot decode the authentication response");
      co_return;
    }
    auto credentials = std::get<proto::sasl::Credentials>(std::move(step));
    co_await check_credentials(tag, credentials.authzid, credentials.authcid, credentials.password);
    co_return;
  }
}

asio::awaitable<void> ImapSession::check_credentials(const Tag& tag, const std::string& authzid,
                                                     const std::string& authcid,
                                                     const std::string& password) {
  const std::string ip = connection_->info().remote_ip;
  auto outcome = co_await state_->deps.authenticator.log_in(
      {"imap", sid(), ip, authzid, authcid, password, &state_->metrics.auth_failures});
  using Result = auth::AuthOutcome::Result;
  switch (outcome.result) {
    case Result::ok: {
      account_ = std::move(outcome.account);
      state_kind_ = State::authenticated;
      connection_->mark_authenticated();
      reader_.set_limits(reader_limits(true));
      connection_->set_idle_timeout(kAuthenticatedIdleTimeout);
      state_->metrics.logins.inc();
      log::info("imap.login", {{"sid", sid()}, {"user", account_->address}, {"remote", ip},
                               {"tls", connection_->stream().tls_active()}});
      ok(tag, "[CAPABILITY " + capabilities() + "] Logged in");
      co_return;
    }
    case Result::temporary_failure:
      no(tag, "[UNAVAILABLE] Temporary authentication failure, try again later");
      co_return;
    case Result::locked_out:
      no(tag, "[UNAVAILABLE] Too many authentication failures from your address, try again later");
      co_return;
    case Result::bad_credentials:
    case Result::disabled:
      break;
  }
  no(tag, "[AUTHENTICATIONFAILED] Authentication failed");
}

asio::awaitable<void> run_imap_session(std::shared_ptr<net::Connection> connection,
                                       std::shared_ptr<ImapServiceState> state, bool tls_available) {
  ImapSession session(std::move(connection), std::move(state), tls_available);
  co_await session.run();
}

}  // namespace postamt::imap
