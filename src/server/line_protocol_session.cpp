#include "server/line_protocol_session.hpp"

#include <algorithm>
#include <cctype>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "net/connection.hpp"

namespace postamt::server {
namespace {

enum class Family { smtp, imap, pop3 };

Family family_of(Protocol protocol) {
  switch (protocol) {
    case Protocol::imap:
    case Protocol::imaps: return Family::imap;
    case Protocol::pop3:
    case Protocol::pop3s: return Family::pop3;
    default: return Family::smtp;
  }
}

// RFC 5321 §4.5.3.1.4: 512 octets for a command line; IMAP and POP3 lines here are
// bounded by the configured limit.
constexpr std::size_t kSmtpCommandLine = 512;
// After this many rejected lines in a row the client is dropped (RFC 5321 §4.3.2 allows 421).
constexpr int kMaxErrors = 10;

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

struct Reply {
  std::string text;
  bool close = false;
  bool start_tls = false;
  bool error = false;
};

struct Texts {
  Family family;
  std::string hostname;
  bool tls_available;
  bool tls_active = false;

  std::string greeting() const {
    switch (family) {
      case Family::smtp: return "220 " + hostname + " ESMTP Postamt\r\n";
      case Family::imap: return "* OK [CAPABILITY " + imap_capabilities() + "] Postamt ready\r\n";
      case Family::pop3: return "+OK Postamt ready\r\n";
    }
    return {};
  }

  std::string imap_capabilities() const {
    return std::string("IMAP4rev1") + (tls_available && !tls_active ? " STARTTLS" : "");
  }

  std::string too_long() const {
    switch (family) {
      case Family::smtp: return "500 5.5.6 Line too long\r\n";
      case Family::imap: return "* BAD Line too long\r\n";
      case Family::pop3: return "-ERR Line too long\r\n";
    }
    return {};
  }

  std::string goodbye(net::ReadError why) const {
    const bool shutdown = why == net::ReadError::shutdown;
    switch (family) {
      case Family::smtp:
        return shutdown ? "421 4.3.2 " + hostname + " Service shutting down\r\n"
                        : "421 4.4.2 " + hostname + " Idle for too long, closing\r\n";
      case Family::imap:
        return shutdown ? "* BYE Server shutting down\r\n" : "* BYE Autologout; idle for too long\r\n";
      case Family::pop3:
        return shutdown ? "-ERR Server shutting down\r\n" : "-ERR Idle for too long, closing\r\n";
    }
    return {};
  }

  std::string too_many_errors() const {
    switch (family) {
      case Family::smtp: return "421 4.7.0 " + hostname + " Too many errors, closing\r\n";
      case Family::imap: return "* BYE Too many errors\r\n";
      case Family::pop3: return "-ERR Too many errors\r\n";
    }
    return {};
  }

  Reply answer(std::string_view line) const {
    switch (family) {
      case Family::smtp: return answer_smtp(line);
      case Family::imap: return answer_imap(line);
      case Family::pop3: return answer_pop3(line);
    }
    return {};
  }

  Reply answer_smtp(std::string_view line) const {
    const std::string verb = upper(line.substr(0, line.find(' ')));
    if (verb == "QUIT") return {"221 2.0.0 " + hostname + " Bye\r\n", true};
    if (verb == "NOOP") return {"250 2.0.0 OK\r\n"};
    if (verb == "RSET") return {"250 2.0.0 OK\r\n"};
    if (verb == "STARTTLS") {
      if (line.size() != verb.size()) return {"501 5.5.4 STARTTLS takes no parameters\r\n", false, false, true};
      if (!tls_available || tls_active) return {"502 5.5.1 STARTTLS not available\r\n", false, false, true};
      return {"220 2.0.0 Ready to start TLS\r\n", false, true};
    }
    return {"502 5.5.1 Command not implemented yet\r\n", false, false, true};
  }

  Reply answer_imap(std::string_view line) const {
    const auto space = line.find(' ');
    if (space == std::string_view::npos || space == 0) return {"* BAD Missing command\r\n", false, false, true};
    const std::string tag(line.substr(0, space));
    std::string_view rest = line.substr(space + 1);
    const std::string command = upper(rest.substr(0, rest.find(' ')));
    if (command == "LOGOUT") return {"* BYE Logging out\r\n" + tag + " OK LOGOUT completed\r\n", true};
    if (command == "NOOP") return {tag + " OK NOOP completed\r\n"};
    if (command == "CAPABILITY") {
      return {"* CAPABILITY " + imap_capabilities() + "\r\n" + tag + " OK CAPABILITY completed\r\n"};
    }
    if (command == "STARTTLS") {
      if (!tls_available || tls_active) return {tag + " BAD STARTTLS not available\r\n", false, false, true};
      return {tag + " OK Begin TLS negotiation now\r\n", false, true};
    }
    return {tag + " BAD Command not implemented yet\r\n", false, false, true};
  }

  Reply answer_pop3(std::string_view line) const {
    const std::string command = upper(line.substr(0, line.find(' ')));
    if (command == "QUIT") return {"+OK Bye\r\n", true};
    if (command == "NOOP") return {"+OK\r\n"};
    if (command == "CAPA") {
      std::string capa = "+OK Capability list follows\r\n";
      if (tls_available && !tls_active) capa += "STLS\r\n";
      return {capa + ".\r\n"};
    }
    if (command == "STLS") {
      if (!tls_available || tls_active) return {"-ERR STLS not available\r\n", false, false, true};
      return {"+OK Begin TLS negotiation\r\n", false, true};
    }
    return {"-ERR Command not implemented yet\r\n", false, false, true};
  }
};

std::string refusal_text(Family family, const std::string& hostname) {
  switch (family) {
    case Family::smtp: return "421 4.7.0 " + hostname + " Too many connections, try again later\r\n";
    case Family::imap: return "* BYE [UNAVAILABLE] Too many connections\r\n";
    case Family::pop3: return "-ERR [SYS/TEMP] Too many connections\r\n";
  }
  return {};
}

asio::awaitable<void> serve(std::shared_ptr<net::Connection> connection, Texts texts) {
  texts.tls_active = connection->stream().tls_active();
  if (texts.family == Family::smtp) connection->set_max_line_length(kSmtpCommandLine);
  if (!co_await connection->write(texts.greeting())) co_return;
  int errors = 0;
  for (;;) {
    auto line = co_await connection->read_line();
    if (!line) {
      switch (line.error()) {
        case net::ReadError::too_long:
          log::info("line.too_long", {{"sid", connection->info().session_id}});
          if (++errors >= kMaxErrors) {
            co_await connection->write(texts.too_many_errors());
            co_return;
          }
          if (!co_await connection->write(texts.too_long())) co_return;
          continue;
        case net::ReadError::timeout:
        case net::ReadError::shutdown:
          co_await connection->write(texts.goodbye(line.error()));
          co_return;
        default:
          co_return;
      }
    }
    Reply reply = texts.answer(line->text);
    errors = reply.error ? errors + 1 : 0;
    if (errors >= kMaxErrors) {
      co_await connection->write(texts.too_many_errors());
      co_return;
    }
    if (!co_await connection->write(reply.text)) co_return;
    if (reply.close) co_return;
    if (reply.start_tls) {
      auto upgraded = co_await connection->start_tls();
      if (!upgraded) {
        log::info("tls.handshake_failed",
                  {{"sid", connection->info().session_id}, {"error", upgraded.error()}});
        co_return;
      }
      texts.tls_active = true;
    }
  }
}

}  // namespace

net::ProtocolBehaviour line_protocol_behaviour(Protocol protocol, std::string hostname,
                                               bool tls_available) {
  Texts texts{family_of(protocol), std::move(hostname), tls_available};
  net::ProtocolBehaviour behaviour;
  behaviour.refusal_text = refusal_text(texts.family, texts.hostname);
  behaviour.implicit_tls = protocol_uses_implicit_tls(protocol);
  behaviour.handler = [texts](std::shared_ptr<net::Connection> connection) {
    return serve(std::move(connection), texts);
  };
  return behaviour;
}

}  // namespace postamt::server
