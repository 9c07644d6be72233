#pragma once
// The SMTP session driver: one coroutine per connection that feeds bytes to the sans-I/O
// engine (proto/smtp) and answers its policy events — sender checks, recipient
// resolution, relay rules, AUTH, and durable delivery before the 250 after DATA.
#include <asio/awaitable.hpp>

#include <memory>

#include "base/config.hpp"

namespace postamt::net {
class Connection;
}

namespace postamt::smtp {

struct SmtpRole {
  Protocol protocol = Protocol::smtp;
  bool tls_available = false;
};

asio::awaitable<void> run_smtp_session(std::shared_ptr<net::Connection> connection,
                                       std::shared_ptr<struct SmtpServiceState> state, SmtpRole role);

}  // namespace postamt::smtp
