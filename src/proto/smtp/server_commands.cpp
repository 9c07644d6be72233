// ServerEngine command handlers. The command table (command_table.cpp) has already
// checked sequence, TLS/AUTH requirements and argument presence when these run.
#include <string>

#include "proto/smtp/address.hpp"
#include "proto/smtp/esmtp_parameters.hpp"
#include "proto/smtp/sasl_line.hpp"
#include "proto/smtp/server_engine.hpp"

namespace postamt::proto::smtp {
namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

Reply parameter_error_reply(const ParameterError& error) {
  if (error.kind == ParameterError::Kind::unknown) {
    // RFC 5321 §4.1.1.11 / §4.2.3: 555 for unrecognised MAIL/RCPT parameters.
    return make_reply(555, "5.5.4", "Error: unsupported parameter " + error.keyword);
  }
  return make_reply(501, "5.5.4", "Error: bad " + error.keyword + " parameter");
}

// After "FROM:" / "TO:": RFC 5321 has no space before the path; many clients send one.
std::string_view skip_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

}  // namespace

// HELO / EHLO (RFC 5321 §4.1.1.1). The argument is a domain or address literal; only its
// shape as one printable word is checked, judging it is policy.
void ServerEngine::cmd_hello(std::string_view argument, bool extended) {
  bool printable = argument.size() <= 255;
  for (char c : argument) {
    if (c <= ' ' || c >= 0x7f) printable = false;
  }
  if (!printable) {
    protocol_error(make_reply(501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname"));
    return;
  }
  end_transaction();  // §4.1.4: HELO/EHLO reset the state like RSET
  hello_ = extended ? Hello::ehlo : Hello::helo;
  helo_domain_ = std::string(argument);
  if (extended) {
    send(ehlo_reply());
  } else {
    send(250, "", options_.hostname);
  }
  events_.push_back(Ehlo{helo_domain_, extended});
}

// The EHLO reply lists the extensions (RFC 5321 §4.1.1.1). RFC 2034 §3 exempts it from
// enhanced status codes.
Reply ServerEngine::ehlo_reply() const {
  std::string text = options_.hostname;
  text += "\nPIPELINING";                                                 // RFC 2920
  text += "\nSIZE " + std::to_string(options_.max_message_size);          // RFC 1870
  text += "\n8BITMIME";                                                   // RFC 6152
  text += "\nSMTPUTF8";                                                   // RFC 6531
  text += "\nENHANCEDSTATUSCODES";                                        // RFC 2034
  text += "\nCHUNKING";                                                   // RFC 3030
  text += "\nDSN";                                                        // RFC 3461
  if (options_.starttls_available && !tls_active_) text += "\nSTARTTLS";  // RFC 3207
  if (!options_.auth_mechanisms.empty()) {                                // RFC 4954
    text += "\nAUTH";
    for (const auto& mechanism : options_.auth_mechanisms) text += ' ' + upper(mechanism);
  }
  return make_reply(250, "", text);
}

// MAIL FROM:<reverse-path> [SP Mail-parameters] (RFC 5321 §4.1.1.2)
void ServerEngine::cmd_mail(std::string_view argument) {
  if (!starts_with_ignoring_case(argument, "FROM:")) {
    protocol_error(make_reply(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]"));
    return;
  }
  const std::string_view rest = skip_spaces(argument.substr(5));
  auto path = parse_path(rest, PathKind::reverse);
  if (!path) {
    protocol_error(make_reply(501, "5.1.7",
                              path.error() == PathError::too_long
                                  ? "Error: sender address too long"
                                  : "Error: bad sender address syntax"));
    return;
  }
  auto parameters = parse_mail_parameters(rest.substr(path->length), negotiated());
  if (!parameters) {
    protocol_error(parameter_error_reply(parameters.error()));
    return;
  }
  if (path->non_ascii && !parameters->smtputf8) {
    // RFC 6531 §3.4/§3.7.4: non-ASCII addresses only with SMTPUTF8; X.6.7 (RFC 5248).
    protocol_error(make_reply(553, "5.6.7", "Error: non-ASCII sender address needs SMTPUTF8"));
    return;
  }
  if (parameters->size && *parameters->size > options_.max_message_size) {
    // RFC 1870 §6.1: the declared size is over the fixed maximum.
    send(552, "5.3.4", "Error: message size exceeds fixed maximum message size");
    return;
  }
  MailFrom mail;
  mail.reverse_path = std::move(path->mailbox);
  mail.size = parameters->size;
  mail.body = parameters->body;
  mail.smtputf8 = parameters->smtputf8;
  mail.ret = parameters->ret;
  mail.envid = std::move(parameters->envid);
  mail.auth = std::move(parameters->auth);
  pending_mail_ = mail;
  events_.push_back(std::move(mail));
  awaiting_ = Awaiting::mail;
}

// RCPT TO:<forward-path> [SP Rcpt-parameters] (RFC 5321 §4.1.1.3)
void ServerEngine::cmd_rcpt(std::string_view argument) {
  if (!starts_with_ignoring_case(argument, "TO:")) {
    protocol_error(make_reply(501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]"));
    return;
  }
  const std::string_view rest = skip_spaces(argument.substr(3));
  auto path = parse_path(rest, PathKind::forward);
  if (!path) {
    protocol_error(make_reply(501, "5.1.3",
                              path.error() == PathError::too_long
                                  ? "Error: recipient address too long"
                                  : "Error: bad recipient address syntax"));
    return;
  }
  auto parameters = parse_rcpt_parameters(rest.substr(path->length), negotiated());
  if (!parameters) {
    protocol_error(parameter_error_reply(parameters.error()));
    return;
  }
  if (path->non_ascii && !(envelope_.mail && envelope_.mail->smtputf8)) {
    protocol_error(make_reply(553, "5.6.7", "Error: non-ASCII recipient address needs SMTPUTF8"));
    return;
  }
  if (envelope_.recipients.size() >= options_.max_recipients) {
    // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client goes on with those
    // already accepted.
    send(452, "4.5.3", "Error: too many recipients");
    return;
  }
  RcptTo rcpt;
  rcpt.forward_path = std::move(path->mailbox);
  rcpt.notify = parameters->notify;
  rcpt.orcpt = std::move(parameters->orcpt);
  pending_rcpt_ = rcpt;
  events_.push_back(std::move(rcpt));
  awaiting_ = Awaiting::rcpt;
}

// DATA (RFC 5321 §4.1.1.4)
void ServerEngine::cmd_data() {
  if (transaction_ == Transaction::mail) {
    // §3.3: MAIL but no accepted recipient; 554 lets a pipelining client know its data
    // was not wanted (RFC 2920 §3.1).
    send(554, "5.5.1", "Error: no valid recipients");
    return;
  }
  events_.push_back(DataBegin{false});
  awaiting_ = Awaiting::data;
}

// BDAT chunk-size [SP "LAST"] (RFC 3030 §2). Whenever the size can be read, exactly that
// many octets follow and are consumed, even when the command is refused, so the stream
// stays in step. An unreadable size cannot be skipped: 501 and the octets that follow
// are read as commands (a real client never sends one).
void ServerEngine::cmd_bdat(std::string_view argument, std::optional<Reply> refused) {
  const std::size_t space = argument.find(' ');
  const std::string_view size_text = argument.substr(0, space);
  std::string_view rest;
  if (space != std::string_view::npos) {
    rest = argument.substr(space + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  bool valid = !size_text.empty() && size_text.size() <= 20;
  std::uint64_t size = 0;
  for (char c : size_text) {
    if (c < '0' || c > '9') {
      valid = false;
      break;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (size > (UINT64_MAX - digit) / 10) {
      valid = false;  // an octet count no stream will ever carry
      break;
    }
    size = size * 10 + digit;
  }
  const bool last = starts_with_ignoring_case(rest, "LAST") && rest.size() == 4;
  if (!valid || (!rest.empty() && !last)) {
    protocol_error(make_reply(501, "5.5.4", "Syntax: BDAT chunk-size [LAST]"));
    return;
  }
  if (refused) {
    discard_chunk(size, std::move(*refused), true);
    return;
  }
  if (transaction_ == Transaction::mail) {
    discard_chunk(size, make_reply(554, "5.5.1", "Error: no valid recipients"), false);
    return;
  }
  const std::uint64_t so_far =
      transaction_ == Transaction::bdat && decoder_ ? decoder_->size() : 0;
  if (size > options_.max_bdat_chunk || size > options_.max_message_size - so_far) {
    Reply reply = size > options_.max_bdat_chunk
                      ? make_reply(552, "5.3.4", "Error: BDAT chunk too large")
                      : data_error_reply(DataError::too_big);
    if (transaction_ == Transaction::bdat && !abort_reported_) {
      events_.push_back(MessageAborted{DataError::too_big, reply});
    }
    end_transaction();
    discard_chunk(size, std::move(reply), false);
    return;
  }
  chunk_size_ = size;
  chunk_remaining_ = size;
  chunk_last_ = last;
  if (transaction_ == Transaction::bdat) {
    mode_ = Mode::chunk;  // a further chunk of the message under way
    return;
  }
  chunk_pending_ = true;  // the first chunk: the driver decides as for DATA
  events_.push_back(DataBegin{true});
  awaiting_ = Awaiting::data;
}

// RSET (RFC 5321 §4.1.1.5): the transaction goes, HELO/EHLO and AUTH stay.
void ServerEngine::cmd_rset() {
  end_transaction();
  send(250, "2.0.0", "Ok");
  events_.push_back(Rset{});
}

void ServerEngine::cmd_noop() { send(250, "2.0.0", "Ok"); }  // §4.1.1.9

// VRFY (§3.5.3): 252 reveals nothing about which addresses exist.
void ServerEngine::cmd_vrfy() {
  send(252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery");
}

void ServerEngine::cmd_help() {  // §4.1.1.8
  send(214, "2.0.0",
       "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
}

void ServerEngine::cmd_quit() {  // §4.1.1.10
  send(221, "2.0.0", options_.hostname + " closing connection");
  closing_ = true;
  events_.push_back(Quit{});
}

// STARTTLS (RFC 3207 §4): answered here; the driver does the handshake, then calls
// tls_started(). Until then nothing more is read, so pipelined commands are never run.
void ServerEngine::cmd_starttls() {
  send(220, "2.0.0", "Ready to start TLS");
  events_.push_back(StartTls{});
  awaiting_ = Awaiting::tls;
}

// AUTH mechanism [SP initial-response] (RFC 4954 §4)
void ServerEngine::cmd_auth(std::string_view argument) {
  if (user_) {
    protocol_error(make_reply(503, "5.5.1", "Error: already authenticated"));
    return;
  }
  const std::size_t space = argument.find(' ');
  const std::string mechanism = upper(argument.substr(0, space));
  std::optional<std::string> initial;
  if (space != std::string_view::npos) {
    const std::string_view response = argument.substr(space + 1);
    if (response.find(' ') != std::string_view::npos) {
      protocol_error(make_reply(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]"));
      return;
    }
    // "=" is an empty initial response (RFC 4954 §4); it is passed on as sent.
    if (response == "=" || (is_base64_line(response) && !response.empty())) {
      initial = std::string(response);
    } else {
      protocol_error(make_reply(501, "5.5.2", "Error: invalid base64 data"));
      return;
    }
  }
  bool offered = false;
  for (const auto& candidate : options_.auth_mechanisms) {
    if (upper(candidate) == mechanism) offered = true;
  }
  if (!offered) {
    protocol_error(make_reply(504, "5.5.4", "Error: unsupported authentication mechanism"));
    return;
  }
  events_.push_back(AuthBegin{mechanism, std::move(initial)});
  awaiting_ = Awaiting::auth;
}

}  // namespace postamt::proto::smtp
