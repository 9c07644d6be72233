#pragma once
// Listener: binds one configured address and hands every accepted connection, within the
// connection limits, to the protocol's session handler on one of the I/O threads.
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/config.hpp"
#include "base/result.hpp"

namespace postamt::net {

class Connection;
class ConnectionLimiter;
class ConnectionRate;
class ConnectionTracker;
class IoContextPool;
class TlsContextProvider;

using SessionHandler = std::function<asio::awaitable<void>(std::shared_ptr<Connection>)>;

struct ListenerServices {
  IoContextPool& pool;
  ConnectionLimiter& limiter;
  ConnectionTracker& tracker;
  TlsContextProvider& tls;
  const LimitsConfig& limits;
  // Issue 15 §7: true for a banned client, refused at accept before any session work
  // (the protocol's refusal, then close). Null: nobody is banned.
  const std::function<bool(std::string_view ip)>* banned = nullptr;
  // Issue 15 §4: new connections per client per minute, checked after the ban. Null: no limit.
  ConnectionRate* connection_rate = nullptr;
};

struct ProtocolBehaviour {
  SessionHandler handler;
  // Sent, then the connection closed, when the limits refuse a client (e.g. SMTP 421).
  std::string refusal_text;
  bool implicit_tls = false;
};

class Listener {
 public:
  Listener(ListenerConfig config, ListenerServices services, ProtocolBehaviour behaviour);
  ~Listener();

  // Opens, binds and listens; the error names the address.
  Result<void> bind();
  // "host:port" actually bound (the real port when the config said 0).
  std::string bound_address() const;
  const ListenerConfig& config() const { return config_; }
  // The sessions' handler may come after bind() (the server binds as root, then opens the
  // store as the service user); before start().
  void set_behaviour(ProtocolBehaviour behaviour) { behaviour_ = std::move(behaviour); }

  void start();  // accept loop on the main context
  void stop();   // closes the acceptor; live connections are not touched

 private:
  asio::awaitable<void> accept_loop();

  ListenerConfig config_;
  ListenerServices services_;
  ProtocolBehaviour behaviour_;
  asio::ip::tcp::acceptor acceptor_;
};

}  // namespace postamt::net
