#include "proto/smtp/client_engine.hpp"

#include <algorithm>
#include <utility>

#include "proto/smtp/client_commands.hpp"

namespace postamt::proto::smtp {
namespace {

bool temporary_code(unsigned code) { return code < 500; }

}  // namespace

ClientEngine::ClientEngine(ClientOptions options)
    : options_(std::move(options)), tls_active_(options_.tls_active) {
  pending_.push_back({Expect::greeting});  // RFC 5321 §3.1: the server speaks first
}

// --- input ---

void ClientEngine::receive(std::string_view bytes) {
  if (closed_) return;
  parser_.feed(bytes);
  process_replies();
}

void ClientEngine::connection_closed() {
  if (closed_) return;
  if (quitting_) {
    closed_ = true;
    awaiting_ = Awaiting::closed;
    pending_.clear();
    events_.push_back(Finished{});
    return;
  }
  fail("connection closed by the server", true, std::nullopt, false);
}

void ClientEngine::process_replies() {
  // While the driver runs the TLS handshake nothing more is read: whatever came in the
  // clear after the 220 is dropped by tls_started() (RFC 3207 §4.2).
  while (!closed_ && awaiting_ != Awaiting::tls) {
    auto reply = parser_.next_reply();
    if (!reply) return;
    if (!*reply) {
      fail(std::string(describe(reply->error())), true, std::nullopt, false);
      return;
    }
    // RFC 5321 §3.8: 421 is the server closing the channel, whatever it answers.
    if ((**reply).code == 421 && (pending_.empty() || pending_.front().expect != Expect::quit)) {
      fail("server is closing the connection", true, **reply, false);
      return;
    }
    if (pending_.empty()) {
      fail("unexpected reply from the server", true, **reply, false);
      return;
    }
    const Pending pending = pending_.front();
    pending_.pop_front();
    on_reply(pending, **reply);
  }
}

void ClientEngine::on_reply(const Pending& pending, const Reply& reply) {
  switch (pending.expect) {
    case Expect::greeting: on_greeting(reply); break;
    case Expect::ehlo: on_ehlo(reply); break;
    case Expect::helo: on_helo(reply); break;
    case Expect::starttls: on_starttls(reply); break;
    case Expect::auth: on_auth(reply); break;
    case Expect::mail: on_mail(reply); break;
    case Expect::rcpt: on_rcpt(pending.index, reply); break;
    case Expect::data: on_data(reply); break;
    case Expect::data_end: on_data_end(reply); break;
    case Expect::ignored_data_end: finish_message(refusal()); break;
    case Expect::rset: on_rset(reply); break;
    case Expect::quit:
      // Whatever the answer (221 normally), the session is over.
      closed_ = true;
      awaiting_ = Awaiting::closed;
      pending_.clear();
      events_.push_back(Finished{});
      break;
  }
}

// --- session setup ---

void ClientEngine::on_greeting(const Reply& reply) {
  if (reply.code != 220) {  // RFC 5321 §3.1: 554 means no service; QUIT and go
    fail_with("greeting refused", reply, reply.code >= 400);
    return;
  }
  send_ehlo();
}

void ClientEngine::send_ehlo() {
  capabilities_ = {};
  send_command("EHLO " + options_.hostname + "\r\n", Expect::ehlo);
}

void ClientEngine::on_ehlo(const Reply& reply) {
  if (reply.code >= 200 && reply.code < 300) {
    capabilities_ = parse_ehlo_reply(reply.text);
    after_hello();
  } else if (reply.permanent_failure()) {
    // RFC 5321 §4.1.4: a server that does not know EHLO gets HELO.
    send_command("HELO " + options_.hostname + "\r\n", Expect::helo);
  } else {
    fail_with("EHLO refused", reply, true);
  }
}

void ClientEngine::on_helo(const Reply& reply) {
  if (reply.code < 200 || reply.code >= 300) {
    fail_with("HELO refused", reply, true);
    return;
  }
  capabilities_ = {};  // HELO negotiates no extensions
  after_hello();
}

void ClientEngine::after_hello() {
  if (!tls_active_ && options_.tls != TlsPolicy::none && capabilities_.starttls &&
      !starttls_refused_) {
    send_command("STARTTLS\r\n", Expect::starttls);  // RFC 3207 §4
    return;
  }
  if (!tls_active_ && options_.tls == TlsPolicy::required) {
    fail("TLS required but not offered", false, std::nullopt, true);
    return;
  }
  if (options_.credentials && !authenticated_) {
    if (!tls_active_ && !options_.auth_without_tls) {
      fail("authentication needs TLS, which is not active", false, std::nullopt, true);
      return;
    }
    if (!capabilities_.offers_auth("PLAIN")) {
      fail("server does not offer AUTH PLAIN", false, std::nullopt, true);
      return;
    }
    send_command(auth_plain_command(*options_.credentials), Expect::auth);  // RFC 4954 §4
    return;
  }
  become_ready();
}

void ClientEngine::on_starttls(const Reply& reply) {
  if (reply.code == 220) {
    awaiting_ = Awaiting::tls;
    events_.push_back(NeedTls{});
    return;
  }
  if (options_.tls == TlsPolicy::required) {
    fail_with("STARTTLS refused", reply, true);
    return;
  }
  starttls_refused_ = true;  // opportunistic: go on in the clear
  after_hello();
}

void ClientEngine::tls_started() {
  if (awaiting_ != Awaiting::tls) return;
  // RFC 3207 §4.2: forget everything learnt in the clear, and EHLO again.
  parser_.discard_buffered();
  tls_active_ = true;
  awaiting_ = Awaiting::nothing;
  send_ehlo();
}

void ClientEngine::on_auth(const Reply& reply) {
  if (reply.code == 235) {  // RFC 4954 §6
    authenticated_ = true;
    become_ready();
    return;
  }
  if (reply.code == 334) {  // PLAIN went with its initial response: no challenge expected
    fail("unexpected AUTH challenge", true, reply, true);
    return;
  }
  fail_with("authentication failed", reply, true);
}

void ClientEngine::become_ready() {
  message_.reset();
  awaiting_ = Awaiting::ready;
  events_.push_back(ClientReady{});
}

// --- one message ---

void ClientEngine::send_message(OutboundMessage message) {
  if (awaiting_ != Awaiting::ready) return;
  awaiting_ = Awaiting::nothing;
  message_ = std::move(message);
  mail_refusal_.reset();
  rcpt_refusal_.reset();
  accepted_ = 0;
  if (message_->recipients.empty()) {
    refuse_before_mail(make_reply(554, "5.5.1", "no recipients"));
    return;
  }
  if (!safe_message_envelope(*message_)) {
    refuse_before_mail(make_reply(553, "5.1.3", "address cannot be sent in a command"));
    return;
  }
  // RFC 1870 §6: don't send what the server already said it would refuse.
  if (capabilities_.max_size && message_->size && *message_->size > *capabilities_.max_size) {
    refuse_before_mail(make_reply(552, "5.3.4", "message exceeds the server's SIZE limit"));
    return;
  }
  pipelined_ = capabilities_.pipelining && options_.use_pipelining;
  send_command(mail_command(*message_, capabilities_), Expect::mail);
  if (pipelined_) {  // RFC 2920 §3.1: MAIL, every RCPT and DATA in one batch
    for (std::size_t i = 0; i < message_->recipients.size(); ++i) {
      send_command(rcpt_command(message_->recipients[i], capabilities_), Expect::rcpt, i);
    }
    send_command("DATA\r\n", Expect::data);
  }
}

void ClientEngine::refuse_before_mail(const Reply& reply) {
  for (std::size_t i = 0; i < message_->recipients.size(); ++i) {
    events_.push_back(RecipientResult{i, reply});
  }
  finish_message(reply);
}

void ClientEngine::on_mail(const Reply& reply) {
  if (reply.code >= 300 && reply.code < 400) {
    fail("unexpected reply to MAIL", true, reply, true);
    return;
  }
  if (reply.code >= 200 && reply.code < 300) {
    if (!pipelined_) send_command(rcpt_command(message_->recipients[0], capabilities_), Expect::rcpt, 0);
    return;
  }
  mail_refusal_ = reply;
  if (pipelined_) return;  // the RCPT and DATA replies are still to come
  refuse_before_mail(reply);
}

void ClientEngine::on_rcpt(std::size_t index, const Reply& reply) {
  if (mail_refusal_) {
    // The RCPT was refused only because MAIL was: the MAIL refusal is the reason.
    events_.push_back(RecipientResult{index, *mail_refusal_});
    return;
  }
  if (reply.code >= 300 && reply.code < 400) {
    fail("unexpected reply to RCPT", true, reply, true);
    return;
  }
  events_.push_back(RecipientResult{index, reply});
  if (reply.code >= 200 && reply.code < 300) {
    ++accepted_;
  } else if (!rcpt_refusal_ || (reply.transient_failure() && !rcpt_refusal_->transient_failure())) {
    rcpt_refusal_ = reply;
  }
  if (pipelined_) return;
  if (index + 1 < message_->recipients.size()) {
    send_command(rcpt_command(message_->recipients[index + 1], capabilities_), Expect::rcpt,
                 index + 1);
  } else if (accepted_ > 0) {
    send_command("DATA\r\n", Expect::data);
  } else {
    finish_message_with_rset();
  }
}

void ClientEngine::finish_message_with_rset() {
  // RFC 5321 §4.1.1.5: the transaction MAIL opened is ended by RSET before the next one.
  events_.push_back(MessageResult{refusal()});
  send_command("RSET\r\n", Expect::rset);
}

const Reply& ClientEngine::refusal() const {
  if (mail_refusal_) return *mail_refusal_;
  return *rcpt_refusal_;
}

void ClientEngine::on_data(const Reply& reply) {
  if (reply.code == 354) {
    if (accepted_ == 0) {
      // RFC 2920 §3.1: DATA was accepted although no recipient was: send an empty
      // message's end and ignore its reply.
      send_command(".\r\n", Expect::ignored_data_end);
      return;
    }
    stuffer_ = pop3::DotStuffer{};
    awaiting_ = Awaiting::data;
    events_.push_back(NeedMessageData{});
    return;
  }
  if (reply.positive()) {
    fail("unexpected reply to DATA", true, reply, true);
    return;
  }
  if (accepted_ == 0) {  // the expected refusal after a pipelined batch without recipients
    if (mail_refusal_) {
      finish_message(*mail_refusal_);
    } else {
      finish_message_with_rset();
    }
    return;
  }
  events_.push_back(MessageResult{reply});
  send_command("RSET\r\n", Expect::rset);
}

void ClientEngine::message_data(std::string_view content) {
  if (awaiting_ != Awaiting::data) return;
  compact_output();
  stuffer_.feed(content, output_);  // RFC 5321 §4.5.2 transparency
}

void ClientEngine::message_end() {
  if (awaiting_ != Awaiting::data) return;
  awaiting_ = Awaiting::nothing;
  std::string terminator;
  stuffer_.finish(terminator);  // <CRLF>.<CRLF>, with the CRLF only when missing
  send_command(std::move(terminator), Expect::data_end);
}

void ClientEngine::on_data_end(const Reply& reply) { finish_message(reply); }

void ClientEngine::on_rset(const Reply& reply) {
  if (reply.code < 200 || reply.code >= 300) {
    fail_with("RSET refused", reply, true);
    return;
  }
  become_ready();
}

void ClientEngine::finish_message(const Reply& reply) {
  events_.push_back(MessageResult{reply});
  become_ready();
}

void ClientEngine::quit() {
  if (closed_ || quitting_) return;
  if (awaiting_ == Awaiting::tls || awaiting_ == Awaiting::data) {
    // QUIT can't be said now (it would be TLS handshake or message content): just close.
    closed_ = true;
    awaiting_ = Awaiting::closed;
    pending_.clear();
    events_.push_back(Finished{});
    return;
  }
  quitting_ = true;
  awaiting_ = Awaiting::nothing;
  send_command("QUIT\r\n", Expect::quit);
}

// --- failures and output ---

void ClientEngine::fail(std::string reason, bool temporary, std::optional<Reply> reply,
                        bool send_quit) {
  if (send_quit) {
    compact_output();
    output_ += "QUIT\r\n";  // RFC 5321 §4.1.1.10: polite, not waited for
  }
  closed_ = true;
  awaiting_ = Awaiting::closed;
  pending_.clear();
  events_.push_back(ConnectionFailed{std::move(reason), temporary, std::move(reply)});
}

void ClientEngine::fail_with(std::string_view what, const Reply& reply, bool send_quit) {
  fail(std::string(what) + ": " + std::to_string(reply.code), temporary_code(reply.code), reply,
       send_quit);
}

void ClientEngine::send_command(std::string line, Expect expect, std::size_t index) {
  compact_output();
  output_ += line;
  pending_.push_back({expect, index});
}

void ClientEngine::compact_output() {
  if (output_start_ == output_.size()) {
    output_.clear();
    output_start_ = 0;
  }
}

std::optional<ClientEvent> ClientEngine::next_event() {
  if (events_.empty()) return std::nullopt;
  ClientEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::string_view ClientEngine::pending_output() const {
  return std::string_view(output_).substr(output_start_);
}

void ClientEngine::consume_output(std::size_t n) {
  output_start_ += std::min(n, output_.size() - output_start_);
  if (output_start_ == output_.size()) {
    output_.clear();
    output_start_ = 0;
  } else if (output_start_ > 65536 && output_start_ * 2 > output_.size()) {
    output_.erase(0, output_start_);
    output_start_ = 0;
  }
}

bool ClientEngine::wants_close() const { return closed_ && events_.empty(); }

}  // namespace postamt::proto::smtp
