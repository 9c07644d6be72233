#include "server/imap_placeholder_session.hpp"

#include <algorithm>
#include <cctype>

#include "base/log.hpp"
#include "net/connection.hpp"

namespace postamt::server {
namespace {

// After this many rejected lines in a row the client is dropped.
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

std::string capabilities(bool starttls) { return std::string("IMAP4rev1") + (starttls ? " STARTTLS" : ""); }

Reply answer(std::string_view line, bool starttls) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return {"* BAD Missing command\r\n", false, false, true};
  const std::string tag(line.substr(0, space));
  const std::string_view rest = line.substr(space + 1);
  const std::string command = upper(rest.substr(0, rest.find(' ')));
  if (command == "LOGOUT") return {"* BYE Logging out\r\n" + tag + " OK LOGOUT completed\r\n", true};
  if (command == "NOOP") return {tag + " OK NOOP completed\r\n"};
  if (command == "CAPABILITY") {
    return {"* CAPABILITY " + capabilities(starttls) + "\r\n" + tag + " OK CAPABILITY completed\r\n"};
  }
  if (command == "STARTTLS") {
    if (!starttls) return {tag + " BAD STARTTLS not available\r\n", false, false, true};
    return {tag + " OK Begin TLS negotiation now\r\n", false, true};
  }
  return {tag + " BAD Command not implemented yet\r\n", false, false, true};
}

asio::awaitable<void> serve(std::shared_ptr<net::Connection> connection, bool tls_available) {
  bool starttls = tls_available && !connection->stream().tls_active();
  if (!co_await connection->write("* OK [CAPABILITY " + capabilities(starttls) + "] Postamt ready\r\n")) {
    co_return;
  }
  int errors = 0;
  for (;;) {
    auto line = co_await connection->read_line();
    if (!line) {
      switch (line.error()) {
        case net::ReadError::too_long:
          log::info("line.too_long", {{"sid", connection->info().session_id}});
          if (++errors >= kMaxErrors) {
            co_await connection->write("* BYE Too many errors\r\n");
            co_return;
          }
          if (!co_await connection->write("* BAD Line too long\r\n")) co_return;
          continue;
        case net::ReadError::timeout:
          co_await connection->write("* BYE Autologout; idle for too long\r\n");
          co_return;
        case net::ReadError::shutdown:
          co_await connection->write("* BYE Server shutting down\r\n");
          co_return;
        default:
          co_return;
      }
    }
    Reply reply = answer(line->text, starttls);
    errors = reply.error ? errors + 1 : 0;
    if (errors >= kMaxErrors) {
      co_await connection->write("* BYE Too many errors\r\n");
      co_return;
    }
    if (!co_await connection->write(reply.text)) co_return;
    if (reply.close) co_return;
    if (reply.start_tls) {
      auto upgraded = co_await connection->start_tls();
      if (!upgraded) {
        log::info("tls.handshake_failed", {{"sid", connection->info().session_id}, {"error", upgraded.error()}});
        co_return;
      }
      starttls = false;
    }
  }
}

}  // namespace

net::ProtocolBehaviour imap_placeholder_behaviour(Protocol protocol, bool tls_available) {
  net::ProtocolBehaviour behaviour;
  behaviour.refusal_text = "* BYE [UNAVAILABLE] Too many connections\r\n";
  behaviour.implicit_tls = protocol_uses_implicit_tls(protocol);
  behaviour.handler = [tls_available](std::shared_ptr<net::Connection> connection) {
    return serve(std::move(connection), tls_available);
  };
  return behaviour;
}

}  // namespace postamt::server
