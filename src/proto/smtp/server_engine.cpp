// ServerEngine core: input pumping, the command dispatch through the command table,
// message content, the driver's answers and the output queue. The command handlers
// are in server_commands.cpp.
#include "proto/smtp/server_engine.hpp"

#include <algorithm>
#include <utility>

#include "proto/smtp/command_parser.hpp"
#include "proto/smtp/sasl_line.hpp"

namespace postamt::proto::smtp {

ServerEngine::ServerEngine(ServerOptions options)
    : options_(std::move(options)),
      limits_(extended_line_limits(!options_.auth_mechanisms.empty())),
      input_(limits_.buffer),
      tls_active_(options_.tls_active) {}

void ServerEngine::start() {
  if (started_ || closing_) return;
  started_ = true;
  send(220, "", options_.hostname + " ESMTP Postamt");
}

void ServerEngine::receive(std::string_view bytes) {
  if (closing_) return;
  input_.feed(bytes);
}

bool ServerEngine::can_step() const {
  return started_ && !closing_ && awaiting_ == Awaiting::nothing;
}

std::optional<Event> ServerEngine::next_event() {
  while (events_.empty() && can_step() && step()) {
  }
  if (events_.empty()) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

bool ServerEngine::wants_close() const { return closing_ && events_.empty(); }

std::string_view ServerEngine::pending_output() const {
  return std::string_view(output_).substr(output_start_);
}

void ServerEngine::consume_output(std::size_t n) {
  output_start_ += std::min(n, output_.size() - output_start_);
  if (output_start_ == output_.size()) {
    output_.clear();
    output_start_ = 0;
  }
}

// --- output helpers ---

void ServerEngine::send(const Reply& reply) { output_.append(format_reply(reply)); }

void ServerEngine::send(unsigned code, std::string_view status, std::string_view text) {
  send(make_reply(code, status, text));
}

void ServerEngine::protocol_error(const Reply& reply) {
  send(reply);
  ++errors_;
  if (options_.max_errors != 0 && errors_ >= options_.max_errors) {
    close_with(make_reply(421, "4.7.0", options_.hostname + " Error: too many errors"));
  }
}

void ServerEngine::close_with(const Reply& reply) {
  send(reply);
  closing_ = true;
  awaiting_ = Awaiting::nothing;
}

// --- input ---

bool ServerEngine::step() {
  switch (mode_) {
    case Mode::command:
    case Mode::auth:
      return step_line();
    case Mode::data:
      return step_data();
    case Mode::chunk:
      return step_chunk();
    case Mode::discard:
      return step_discard();
  }
  return false;
}

bool ServerEngine::step_line() {
  auto line = input_.next_line();
  if (!line) return false;
  const bool in_auth = mode_ == Mode::auth;
  if (!*line) {
    if (in_auth) {
      mode_ = Mode::command;
      events_.push_back(AuthCancelled{});
      // RFC 4954 §6: 500 5.5.6 Authentication Exchange line is too long.
      protocol_error(make_reply(500, "5.5.6", "Error: authentication exchange line is too long"));
    } else {
      protocol_error(make_reply(500, "5.5.2", "Error: line too long"));
    }
    return true;
  }
  if ((*line)->bare_lf && !options_.normalize_bare_line_endings) {
    // RFC 5321 §2.3.8: lines end with CRLF. A bare LF is refused in commands as in data,
    // so no LF-only framing is ever honoured (DESIGN "Security rules").
    if (in_auth) {
      mode_ = Mode::command;
      events_.push_back(AuthCancelled{});
    }
    protocol_error(make_reply(500, "5.5.2", "Error: bare LF received; lines must end with CRLF"));
    return true;
  }
  if (in_auth) {
    on_auth_line((*line)->text);
  } else {
    on_command_line((*line)->text);
  }
  return true;
}

void ServerEngine::on_command_line(std::string_view line) {
  auto parsed = split_command_line(line);
  if (!parsed) {
    if (parsed.error() == CommandLineError::invalid_character) {
      protocol_error(make_reply(500, "5.5.2", "Error: invalid character in command"));
    } else {
      protocol_error(make_reply(500, "5.5.2", "Error: command not recognized"));
    }
    return;
  }
  const CommandSpec* spec = find_command(parsed->verb);
  if (spec == nullptr) {
    protocol_error(make_reply(500, "5.5.2", "Error: command not recognized"));
    return;
  }
  if (line.size() + 2 > line_limit(*spec)) {
    protocol_error(make_reply(500, "5.5.2", "Error: line too long"));
    return;
  }
  if (spec->verb == Verb::not_implemented) {
    protocol_error(make_reply(502, "5.5.1", "Error: command not implemented"));
    return;
  }
  std::optional<Reply> refused = refusal(*spec, parsed->argument);
  if (spec->flags & kConsumesChunk) {
    cmd_bdat(parsed->argument, std::move(refused));
    return;
  }
  if (refused) {
    protocol_error(*refused);
    return;
  }
  switch (spec->verb) {
    case Verb::helo: cmd_hello(parsed->argument, false); break;
    case Verb::ehlo: cmd_hello(parsed->argument, true); break;
    case Verb::mail: cmd_mail(parsed->argument); break;
    case Verb::rcpt: cmd_rcpt(parsed->argument); break;
    case Verb::data: cmd_data(); break;
    case Verb::rset: cmd_rset(); break;
    case Verb::noop: cmd_noop(); break;
    case Verb::quit: cmd_quit(); break;
    case Verb::vrfy: cmd_vrfy(); break;
    case Verb::help: cmd_help(); break;
    case Verb::starttls: cmd_starttls(); break;
    case Verb::auth: cmd_auth(parsed->argument); break;
    case Verb::bdat:
    case Verb::not_implemented:
      break;  // handled above
  }
}

// A line while a SASL exchange waits for the client (RFC 4954 §4).
void ServerEngine::on_auth_line(std::string_view line) {
  if (line == "*") {
    mode_ = Mode::command;
    send(501, "5.0.0", "Authentication cancelled");
    events_.push_back(AuthCancelled{});
    return;
  }
  if (!is_base64_line(line)) {
    mode_ = Mode::command;
    events_.push_back(AuthCancelled{});
    protocol_error(make_reply(501, "5.5.2", "Error: invalid base64 data"));
    return;
  }
  events_.push_back(AuthResponse{std::string(line)});
  awaiting_ = Awaiting::auth;
}

unsigned ServerEngine::state_bit() const {
  if (hello_ == Hello::none) return kStateGreeted;
  switch (transaction_) {
    case Transaction::none: return kStateReady;
    case Transaction::mail: return kStateMail;
    case Transaction::rcpt: return kStateRcpt;
    case Transaction::bdat: return kStateBdat;
  }
  return kStateReady;
}

std::size_t ServerEngine::line_limit(const CommandSpec& spec) const {
  if (hello_ != Hello::ehlo || !(spec.flags & kLongLine)) return limits_.other;
  switch (spec.verb) {
    case Verb::mail: return limits_.mail;
    case Verb::rcpt: return limits_.rcpt;
    default: return limits_.buffer;  // AUTH with an initial response
  }
}

NegotiatedExtensions ServerEngine::negotiated() const {
  NegotiatedExtensions extensions;
  if (hello_ != Hello::ehlo) return extensions;  // HELO: no extensions (RFC 5321 §4.1.1.1)
  extensions.size = true;
  extensions.body = true;
  extensions.smtputf8 = true;
  extensions.dsn = true;
  extensions.auth = !options_.auth_mechanisms.empty();
  return extensions;
}

// The table's verdict on a command before its handler runs.
std::optional<Reply> ServerEngine::refusal(const CommandSpec& spec,
                                           std::string_view argument) const {
  if (options_.tls_required && !tls_active_ && !(spec.flags & kBeforeTls)) {
    return make_reply(530, "5.7.0", "Must issue a STARTTLS command first");  // RFC 3207 §4
  }
  if (spec.verb == Verb::starttls) {
    if (!options_.starttls_available && !tls_active_) {
      return make_reply(502, "5.5.1", "Error: command not implemented");
    }
    if (tls_active_) return make_reply(503, "5.5.1", "Error: TLS already active");
  }
  if (spec.verb == Verb::auth && options_.auth_mechanisms.empty()) {
    if (options_.auth_needs_tls && !tls_active_) {
      return make_reply(530, "5.7.0", "Must issue a STARTTLS command first");  // RFC 3207 §4
    }
    return make_reply(503, "5.5.1", "Error: authentication not enabled");
  }
  if ((spec.flags & kNeedsEhlo) && hello_ != Hello::ehlo) {
    return make_reply(503, "5.5.1", "Error: send EHLO first");
  }
  if (!(spec.states & state_bit())) return sequence_error(spec);
  if ((spec.flags & kNeedsAuth) && options_.auth_required && !user_) {
    return make_reply(530, "5.7.0", "Authentication required");  // RFC 4954 §6
  }
  if ((spec.flags & kNoArgument) && !argument.empty()) {
    return make_reply(501, "5.5.4", "Syntax: " + std::string(spec.syntax));
  }
  if ((spec.flags & kNeedsArgument) && argument.empty()) {
    return make_reply(501, "5.5.4", "Syntax: " + std::string(spec.syntax));
  }
  return std::nullopt;
}

Reply ServerEngine::sequence_error(const CommandSpec& spec) const {
  if (hello_ == Hello::none) return make_reply(503, "5.5.1", "Error: send HELO/EHLO first");
  switch (spec.verb) {
    case Verb::mail:
      return make_reply(503, "5.5.1", "Error: nested MAIL command");
    case Verb::rcpt:
    case Verb::data:
      if (transaction_ == Transaction::bdat) {
        // RFC 3030 §2: DATA and BDAT cannot be mixed in one transaction.
        return make_reply(503, "5.5.1", "Error: BDAT transaction in progress");
      }
      return make_reply(503, "5.5.1", "Error: need MAIL command");
    case Verb::bdat:
      return make_reply(503, "5.5.1", "Error: need MAIL command");
    case Verb::starttls:
    case Verb::auth:
      return make_reply(503, "5.5.1", "Error: MAIL transaction in progress");
    default:
      return make_reply(503, "5.5.1", "Error: bad sequence of commands");
  }
}

// --- message content ---

DataLimits ServerEngine::data_limits() const {
  return DataLimits{options_.max_message_size, options_.max_text_line,
                    options_.normalize_bare_line_endings};
}

Reply ServerEngine::data_error_reply(DataError error) const {
  switch (error) {
    case DataError::too_big:
      return make_reply(552, "5.3.4", "Error: message size exceeds fixed maximum message size");
    case DataError::bare_line_ending:
      return make_reply(550, "5.6.0",
                        "Error: bare CR or LF in message data; lines must end with CRLF");
    case DataError::nul:
      return make_reply(550, "5.6.0", "Error: NUL octet in message data");
    case DataError::line_too_long:
      return make_reply(550, "5.6.0", "Error: message line longer than " +
                                          std::to_string(options_.max_text_line) +
                                          " octets");
  }
  return make_reply(554, "5.6.0", "Error: message refused");
}

void ServerEngine::deliver_decoded(std::string bytes) {
  if (const auto error = decoder_->error()) {
    if (!abort_reported_) {
      abort_reported_ = true;
      events_.push_back(MessageAborted{*error, data_error_reply(*error)});
    }
    return;
  }
  if (!bytes.empty()) events_.push_back(MessageChunk{std::move(bytes)});
}

bool ServerEngine::step_data() {
  if (input_.buffered() == 0) return false;
  const std::string bytes = input_.take(input_.buffered());
  auto decoded = decoder_->decode(bytes);
  if (decoded.consumed < bytes.size()) {
    // What follows <CRLF>.<CRLF> is pipelined commands: back into the line splitter,
    // which is empty now, so their order is kept.
    input_.feed(std::string_view(bytes).substr(decoded.consumed));
  }
  deliver_decoded(std::move(decoded.bytes));
  if (decoded.ended) {
    mode_ = Mode::command;
    if (const auto error = decoder_->error()) {
      send(data_error_reply(*error));  // only now: the data really ended (§4.5.2)
      end_transaction();
    } else {
      events_.push_back(MessageEnd{decoder_->size()});
      awaiting_ = Awaiting::message;
    }
  }
  return true;
}

bool ServerEngine::step_chunk() {
  if (chunk_remaining_ > 0) {
    if (input_.buffered() == 0) return false;
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(chunk_remaining_, input_.buffered()));
    const std::string bytes = input_.take(n);
    chunk_remaining_ -= n;
    deliver_decoded(decoder_->decode(bytes).bytes);
    if (chunk_remaining_ > 0) return true;
  }
  finish_chunk();
  return true;
}

// The chunk's octets are all in: RFC 3030 §2 answers each BDAT only now.
void ServerEngine::finish_chunk() {
  mode_ = Mode::command;
  if (chunk_last_ && !decoder_->error()) deliver_decoded(decoder_->finish());
  if (const auto error = decoder_->error()) {
    send(data_error_reply(*error));
    end_transaction();
    return;
  }
  if (chunk_last_) {
    events_.push_back(MessageEnd{decoder_->size()});
    awaiting_ = Awaiting::message;
    return;
  }
  send(250, "2.0.0", std::to_string(chunk_size_) + " octets received");
}

void ServerEngine::discard_chunk(std::uint64_t size, Reply reply, bool counts_as_error) {
  mode_ = Mode::discard;
  chunk_remaining_ = size;
  discard_reply_ = std::move(reply);
  discard_counts_ = counts_as_error;
}

bool ServerEngine::step_discard() {
  if (chunk_remaining_ > 0) {
    if (input_.buffered() == 0) return false;
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(chunk_remaining_, input_.buffered()));
    input_.take(n);
    chunk_remaining_ -= n;
    if (chunk_remaining_ > 0) return true;
  }
  mode_ = Mode::command;
  if (discard_counts_) {
    protocol_error(discard_reply_);
  } else {
    send(discard_reply_);
  }
  return true;
}

void ServerEngine::end_transaction() {
  transaction_ = Transaction::none;
  envelope_ = Envelope{};
  pending_mail_.reset();
  pending_rcpt_.reset();
  decoder_.reset();
  abort_reported_ = false;
  chunk_pending_ = false;
}

// --- the driver's answers ---

void ServerEngine::accept_mail() {
  if (awaiting_ != Awaiting::mail || !pending_mail_) return;
  awaiting_ = Awaiting::nothing;
  envelope_ = Envelope{};
  envelope_.mail = std::move(pending_mail_);
  pending_mail_.reset();
  transaction_ = Transaction::mail;
  send(250, "2.1.0", "Ok");
}

void ServerEngine::accept_rcpt() {
  if (awaiting_ != Awaiting::rcpt || !pending_rcpt_) return;
  awaiting_ = Awaiting::nothing;
  envelope_.recipients.push_back(std::move(*pending_rcpt_));
  pending_rcpt_.reset();
  transaction_ = Transaction::rcpt;
  send(250, "2.1.5", "Ok");
}

void ServerEngine::accept_data() {
  if (awaiting_ != Awaiting::data) return;
  awaiting_ = Awaiting::nothing;
  abort_reported_ = false;
  if (chunk_pending_) {
    chunk_pending_ = false;
    decoder_.emplace(Framing::chunked, data_limits());
    transaction_ = Transaction::bdat;
    envelope_.chunking = true;
    mode_ = Mode::chunk;
    return;
  }
  decoder_.emplace(Framing::dot_stuffed, data_limits());
  mode_ = Mode::data;
  send(354, "", "End data with <CR><LF>.<CR><LF>");
}

void ServerEngine::message_stored(std::string_view queue_id) {
  if (awaiting_ != Awaiting::message) return;
  awaiting_ = Awaiting::nothing;
  send(250, "2.0.0", "Ok: queued as " + std::string(queue_id));
  // The budget is for errors made without delivering mail: a client that delivers is
  // doing its job, however many mistakes it made before.
  errors_ = 0;
  end_transaction();
}

void ServerEngine::reject(Reply reply) {
  if (reply.code < 400 || reply.code > 599) {
    reply = make_reply(451, "4.3.0", "Error: internal error");
  }
  switch (awaiting_) {
    case Awaiting::mail:
      awaiting_ = Awaiting::nothing;
      pending_mail_.reset();
      send(reply);
      break;
    case Awaiting::rcpt:
      awaiting_ = Awaiting::nothing;
      pending_rcpt_.reset();
      // A refused recipient counts toward the error budget, so guessing addresses one
      // RCPT after another (harvesting) ends the session like any other run of errors.
      // Temporary refusals (452 too many recipients, 451 lookups) are not the client's fault.
      if (reply.permanent_failure()) {
        protocol_error(reply);
      } else {
        send(reply);
      }
      break;
    case Awaiting::data:
      awaiting_ = Awaiting::nothing;
      if (chunk_pending_) {
        // The chunk is on its way already: read and drop it, then answer (RFC 3030 §2).
        end_transaction();
        discard_chunk(chunk_remaining_, std::move(reply), false);
      } else {
        send(reply);
        end_transaction();
      }
      break;
    case Awaiting::message:
      awaiting_ = Awaiting::nothing;
      send(reply);
      end_transaction();
      break;
    case Awaiting::auth:
      auth_failed(std::move(reply));
      break;
    case Awaiting::nothing:
    case Awaiting::tls:
      break;
  }
}

void ServerEngine::auth_challenge(std::string_view challenge) {
  if (awaiting_ != Awaiting::auth) return;
  awaiting_ = Awaiting::nothing;
  mode_ = Mode::auth;
  send(334, "", challenge);
}

void ServerEngine::auth_succeeded(std::string user) {
  if (awaiting_ != Awaiting::auth) return;
  awaiting_ = Awaiting::nothing;
  mode_ = Mode::command;
  user_ = std::move(user);
  send(235, "2.7.0", "Authentication successful");
}

void ServerEngine::auth_failed(Reply reply) {
  if (awaiting_ != Awaiting::auth) return;
  if (reply.code < 400 || reply.code > 599) {
    reply = make_reply(535, "5.7.8", "Authentication credentials invalid");
  }
  awaiting_ = Awaiting::nothing;
  mode_ = Mode::command;
  send(reply);
}

void ServerEngine::tls_started() {
  if (awaiting_ != Awaiting::tls) return;
  awaiting_ = Awaiting::nothing;
  input_.discard_buffered();  // RFC 3207 §4.2: nothing sent before the handshake counts
  tls_active_ = true;
  hello_ = Hello::none;
  helo_domain_.clear();
  user_.reset();
  end_transaction();
  mode_ = Mode::command;
}

void ServerEngine::set_auth_mechanisms(std::vector<std::string> mechanisms) {
  options_.auth_mechanisms = std::move(mechanisms);
  limits_ = extended_line_limits(!options_.auth_mechanisms.empty());
  input_.set_max_line_length(limits_.buffer);
}

void ServerEngine::shutdown(Reply reply) {
  if (closing_) return;
  events_.clear();
  input_.discard_buffered();
  close_with(reply);
}

}  // namespace postamt::proto::smtp
