#pragma once
// The POP3 session driver: one coroutine per connection that feeds bytes to the sans-I/O
// engine (proto/pop3) and answers its policy events — authentication with throttling,
// the maildrop lock and snapshot, message bytes from the blob store, and the one-step
// removal of deleted messages at QUIT.
#include <asio/awaitable.hpp>

#include <memory>

namespace postamt::net {
class Connection;
}

namespace postamt::pop3 {

asio::awaitable<void> run_pop3_session(std::shared_ptr<net::Connection> connection,
                                       std::shared_ptr<struct Pop3ServiceState> state, bool tls_available);

}  // namespace postamt::pop3
