#include "proto/pop3/server_engine.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace postamt::proto::pop3 {
namespace {

constexpr std::string_view kCrlf = "\r\n";

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// A decimal number of digits only (RFC 1939 §3: "msg" and "n" are numbers).
std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool printable(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

ServerEngine::ServerEngine(ServerOptions options)
    : options_(std::move(options)), input_(options_.max_sasl_line) {}

void ServerEngine::start() {
  if (started_) return;
  started_ = true;
  ok(options_.greeting);
}

void ServerEngine::receive(std::string_view bytes) {
  if (closing_) return;
  input_.feed(bytes);
}

std::optional<Event> ServerEngine::next_event() {
  for (;;) {
    if (!events_.empty()) {
      Event event = std::move(events_.front());
      events_.pop_front();
      return event;
    }
    if (closing_ || awaiting_ != Awaiting::nothing) return std::nullopt;
    if (output_backlogged()) return std::nullopt;  // the driver writes first
    auto line = input_.next_line();
    if (!line) return std::nullopt;
    if (!*line) {
      if (sasl_mode_) {
        // RFC 5034 §4: a response the server cannot take fails the exchange.
        sasl_mode_ = false;
        events_.emplace_back(AuthCancelled{});
        protocol_error("[AUTH] Authentication response too long");
      } else {
        protocol_error("Line too long");
      }
      continue;
    }
    const std::string_view text = (*line)->text;
    if (sasl_mode_) {
      on_sasl_line(text);
    } else {
      on_command_line(text);
    }
  }
}

void ServerEngine::on_sasl_line(std::string_view line) {
  sasl_mode_ = false;
  if (line == "*") {  // RFC 5034 §4: the client cancels the exchange
    events_.emplace_back(AuthCancelled{});
    protocol_error("Authentication cancelled");
    return;
  }
  awaiting_ = Awaiting::login;
  events_.emplace_back(AuthResponse{std::string(line)});
}

void ServerEngine::on_command_line(std::string_view line) {
  const std::size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view argument = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  const CommandSpec* spec = find_command(verb);
  // RFC 2449 §4: 255 octets including CRLF, except AUTH's initial response (RFC 5034 §4).
  if (line.size() + kCrlf.size() > kMaxCommandLine && !(spec && (spec->flags & kLongLine))) {
    protocol_error("Line too long");
    return;
  }
  if (!spec) {
    protocol_error("Unknown command");
    return;
  }
  const unsigned state_bit = state_ == State::authorization ? kStateAuthorization : kStateTransaction;
  if (!(spec->states & state_bit)) {
    if (state_ == State::authorization) {
      protocol_error("Not logged in; command not valid in the AUTHORIZATION state");
    } else {
      protocol_error("Already logged in; command not valid in the TRANSACTION state");
    }
    return;
  }
  if ((spec->flags & kNoArgument) && !argument.empty()) {
    protocol_error(std::string(spec->name) + " takes no argument");
    return;
  }
  if ((spec->flags & kNeedsArgument) && argument.empty()) {
    protocol_error(std::string(spec->name) + " needs an argument");
    return;
  }
  if (spec->verb != Verb::pass) user_.reset();  // PASS must follow USER at once (RFC 1939 §7)
  switch (spec->verb) {
    case Verb::user: cmd_user(argument); return;
    case Verb::pass: cmd_pass(argument); return;
    case Verb::auth: cmd_auth(argument); return;
    case Verb::apop: protocol_error("APOP not supported"); return;
    case Verb::capa: cmd_capa(); return;
    case Verb::stls: cmd_stls(); return;
    case Verb::quit: cmd_quit(); return;
    case Verb::stat: cmd_stat(); return;
    case Verb::list: cmd_list(argument, false); return;
    case Verb::uidl: cmd_list(argument, true); return;
    case Verb::retr: cmd_retr(argument); return;
    case Verb::top: cmd_top(argument); return;
    case Verb::dele: cmd_dele(argument); return;
    case Verb::noop: ok(""); return;  // RFC 1939 §5
    case Verb::rset: cmd_rset(); return;
  }
}

// --- AUTHORIZATION (RFC 1939 §4, §7; RFC 5034; RFC 2595)

void ServerEngine::cmd_user(std::string_view argument) {
  if (!options_.auth_allowed) {
    protocol_error("[AUTH] Plaintext authentication is not allowed without TLS; use STLS first");
    return;
  }
  user_ = std::string(argument);
  ok("Send your password");
}

void ServerEngine::cmd_pass(std::string_view argument) {
  if (!options_.auth_allowed) {
    protocol_error("[AUTH] Plaintext authentication is not allowed without TLS; use STLS first");
    return;
  }
  if (!user_) {
    protocol_error("USER first");
    return;
  }
  // The password is the rest of the line: it may hold spaces (RFC 1939 §7 PASS).
  Login login{std::move(*user_), std::string(argument)};
  user_.reset();
  awaiting_ = Awaiting::login;
  events_.emplace_back(std::move(login));
}

void ServerEngine::cmd_auth(std::string_view argument) {
  if (argument.empty()) {
    // Not in RFC 5034; answered as common clients expect: the mechanism list.
    if (!options_.auth_allowed) {
      protocol_error("[AUTH] Authentication is not allowed without TLS; use STLS first");
      return;
    }
    output_ += "+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n";
    return;
  }
  if (!options_.auth_allowed) {
    protocol_error("[AUTH] Authentication is not allowed without TLS; use STLS first");
    return;
  }
  const std::size_t space = argument.find(' ');
  const std::string mechanism = upper(argument.substr(0, space));
  std::optional<std::string> initial;
  if (space != std::string_view::npos) initial = std::string(argument.substr(space + 1));
  if (mechanism != "PLAIN" && mechanism != "LOGIN") {
    protocol_error("Unsupported authentication mechanism");
    return;
  }
  if (initial && (initial->empty() || initial->find(' ') != std::string::npos)) {
    protocol_error("Malformed initial response");
    return;
  }
  awaiting_ = Awaiting::login;
  events_.emplace_back(AuthBegin{mechanism, std::move(initial)});
}

void ServerEngine::auth_challenge(std::string_view base64) {
  if (awaiting_ != Awaiting::login) return;
  awaiting_ = Awaiting::nothing;
  sasl_mode_ = true;
  output_ += "+ ";
  output_ += base64;
  output_ += kCrlf;
}

void ServerEngine::login_succeeded(std::vector<MaildropEntry> maildrop) {
  if (awaiting_ != Awaiting::login) return;
  awaiting_ = Awaiting::nothing;
  maildrop_ = std::move(maildrop);
  deleted_.assign(maildrop_.size(), false);
  state_ = State::transaction;
  ok("Logged in, " + std::to_string(live_count()) + " messages (" + std::to_string(live_octets()) + " octets)");
}

void ServerEngine::login_failed(std::string_view text) {
  if (awaiting_ != Awaiting::login) return;
  awaiting_ = Awaiting::nothing;
  protocol_error(text);
}

void ServerEngine::cmd_capa() {
  // RFC 2449 §5: one capability a line, then ".".
  output_ += "+OK Capability list follows\r\n";
  output_ += "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  // RFC 2449 §6.7: the server never deletes mail on its own, so clients may leave it.
  output_ += "EXPIRE NEVER\r\n";
  if (state_ == State::authorization && options_.auth_allowed) output_ += "USER\r\nSASL PLAIN LOGIN\r\n";
  if (state_ == State::authorization && options_.starttls_available && !options_.tls_active) {
    output_ += "STLS\r\n";
  }
  output_ += "IMPLEMENTATION " + options_.implementation + "\r\n.\r\n";
}

void ServerEngine::cmd_stls() {
  if (!options_.starttls_available || options_.tls_active) {
    protocol_error(options_.tls_active ? "Already using TLS" : "STLS not available");
    return;
  }
  ok("Begin TLS negotiation");
  // RFC 2595 §4 (and §3.1 by analogy with RFC 3207): nothing pipelined after STLS counts.
  input_.discard_buffered();
  awaiting_ = Awaiting::tls;
  events_.emplace_back(StartTls{});
}

void ServerEngine::tls_started(bool auth_allowed) {
  if (awaiting_ != Awaiting::tls) return;
  awaiting_ = Awaiting::nothing;
  input_.discard_buffered();
  options_.tls_active = true;
  options_.auth_allowed = auth_allowed;
}

// --- QUIT and UPDATE (RFC 1939 §6)

void ServerEngine::cmd_quit() {
  if (state_ == State::authorization) {
    ok("Bye");
    close_session();
    return;
  }
  state_ = State::update;
  Update update;
  for (std::size_t i = 0; i < deleted_.size(); ++i) {
    if (deleted_[i]) update.deleted.push_back(i);
  }
  awaiting_ = Awaiting::update;
  events_.emplace_back(std::move(update));
}

void ServerEngine::update_done() {
  if (awaiting_ != Awaiting::update) return;
  awaiting_ = Awaiting::nothing;
  std::size_t removed = 0;
  for (bool d : deleted_) removed += d ? 1 : 0;
  ok("Bye (" + std::to_string(removed) + " messages deleted, " +
     std::to_string(live_count()) + " left)");
  close_session();
}

void ServerEngine::update_failed(std::string_view text) {
  if (awaiting_ != Awaiting::update) return;
  awaiting_ = Awaiting::nothing;
  err(text);
  close_session();
}

// --- TRANSACTION (RFC 1939 §5, §7)

std::optional<std::size_t> ServerEngine::message_index(std::string_view argument) {
  auto number = parse_number(argument);
  if (!number) {
    protocol_error("Invalid message number");
    return std::nullopt;
  }
  if (*number == 0 || *number > maildrop_.size()) {
    err("No such message");
    return std::nullopt;
  }
  const std::size_t index = static_cast<std::size_t>(*number - 1);
  if (deleted_[index]) {
    err("Message " + std::to_string(*number) + " already deleted");
    return std::nullopt;
  }
  return index;
}

void ServerEngine::cmd_stat() {
  ok(std::to_string(live_count()) + " " + std::to_string(live_octets()));
}

void ServerEngine::cmd_list(std::string_view argument, bool unique_ids) {
  auto value = [&](std::size_t i) {
    return unique_ids ? maildrop_[i].unique_id : std::to_string(maildrop_[i].size);
  };
  if (!argument.empty()) {
    if (argument.find(' ') != std::string_view::npos) {
      protocol_error("Too many arguments");
      return;
    }
    auto index = message_index(argument);
    if (!index) return;
    ok(std::to_string(*index + 1) + " " + value(*index));
    return;
  }
  if (unique_ids) {
    ok("Unique-ID listing follows");
  } else {
    ok(std::to_string(live_count()) + " messages (" + std::to_string(live_octets()) + " octets)");
  }
  for (std::size_t i = 0; i < maildrop_.size(); ++i) {
    if (deleted_[i]) continue;
    output_ += std::to_string(i + 1);
    output_ += ' ';
    output_ += value(i);
    output_ += kCrlf;
  }
  output_ += ".\r\n";
}

void ServerEngine::cmd_retr(std::string_view argument) {
  if (argument.find(' ') != std::string_view::npos) {
    protocol_error("Too many arguments");
    return;
  }
  auto index = message_index(argument);
  if (!index) return;
  retrieving_ = *index;
  stuffer_.emplace();
  awaiting_ = Awaiting::retrieve;
  events_.emplace_back(Retrieve{*index, std::nullopt});
}

void ServerEngine::cmd_top(std::string_view argument) {
  const std::size_t space = argument.find(' ');
  if (space == std::string_view::npos) {
    protocol_error("Usage: TOP msg n");
    return;
  }
  auto lines = parse_number(argument.substr(space + 1));
  if (!lines) {
    protocol_error("Invalid line count");
    return;
  }
  auto index = message_index(argument.substr(0, space));
  if (!index) return;
  retrieving_ = *index;
  stuffer_.emplace(*lines);
  awaiting_ = Awaiting::retrieve;
  events_.emplace_back(Retrieve{*index, *lines});
}

void ServerEngine::begin_message() {
  if (awaiting_ != Awaiting::retrieve) return;
  awaiting_ = Awaiting::message;
  ok(std::to_string(maildrop_[retrieving_].size) + " octets");
}

void ServerEngine::message_data(std::string_view bytes) {
  if (awaiting_ != Awaiting::message || !stuffer_) return;
  stuffer_->feed(bytes, output_);
}

bool ServerEngine::message_complete() const { return stuffer_ && stuffer_->done(); }

void ServerEngine::end_message() {
  if (awaiting_ != Awaiting::message || !stuffer_) return;
  stuffer_->finish(output_);
  stuffer_.reset();
  awaiting_ = Awaiting::nothing;
}

void ServerEngine::retrieve_failed(std::string_view text) {
  if (awaiting_ != Awaiting::retrieve) return;
  stuffer_.reset();
  awaiting_ = Awaiting::nothing;
  err(text);
}

void ServerEngine::cmd_dele(std::string_view argument) {
  if (argument.find(' ') != std::string_view::npos) {
    protocol_error("Too many arguments");
    return;
  }
  auto index = message_index(argument);
  if (!index) return;
  deleted_[*index] = true;
  ok("Message " + std::to_string(*index + 1) + " deleted");
}

void ServerEngine::cmd_rset() {
  deleted_.assign(maildrop_.size(), false);
  ok("Maildrop has " + std::to_string(live_count()) + " messages (" + std::to_string(live_octets()) + " octets)");
}

// --- output and bookkeeping

void ServerEngine::ok(std::string_view text) {
  output_ += "+OK";
  if (!text.empty()) {
    output_ += ' ';
    output_ += text;
  }
  output_ += kCrlf;
}

void ServerEngine::err(std::string_view text) {
  output_ += "-ERR ";
  // Texts come from this engine or its driver; keep them one printable line, ≤ 512 octets.
  std::string_view bounded = text.substr(0, 500);
  output_ += printable(bounded) ? bounded : std::string_view("Error");
  output_ += kCrlf;
}

void ServerEngine::protocol_error(std::string_view text) {
  err(text);
  if (++errors_ >= options_.max_errors && !closing_) {
    output_ += "-ERR Too many errors, closing\r\n";
    close_session();
  }
}

void ServerEngine::close_session() {
  closing_ = true;
  sasl_mode_ = false;
  state_ = State::closed;
  input_.discard_buffered();
  events_.emplace_back(Quit{});
}

void ServerEngine::shutdown(std::string_view text) {
  if (closing_) return;
  events_.clear();
  awaiting_ = Awaiting::nothing;
  stuffer_.reset();
  err(text);
  closing_ = true;
  sasl_mode_ = false;
  state_ = State::closed;
  input_.discard_buffered();
}

std::string_view ServerEngine::pending_output() const {
  return std::string_view(output_).substr(output_start_);
}

void ServerEngine::consume_output(std::size_t n) {
  output_start_ += std::min(n, output_.size() - output_start_);
  if (output_start_ == output_.size()) {
    output_.clear();
    output_start_ = 0;
  } else if (output_start_ > 65536 && output_start_ * 2 > output_.size()) {
    output_.erase(0, output_start_);
    output_start_ = 0;
  }
}

bool ServerEngine::wants_close() const { return closing_ && events_.empty(); }

std::uint64_t ServerEngine::live_octets() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < maildrop_.size(); ++i) {
    if (!deleted_[i]) total += maildrop_[i].size;
  }
  return total;
}

std::size_t ServerEngine::live_count() const {
  std::size_t count = 0;
  for (bool d : deleted_) count += d ? 0 : 1;
  return count;
}

}  // namespace postamt::proto::pop3
