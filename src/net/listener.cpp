#include "net/listener.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <chrono>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "net/connection.hpp"
#include "net/connection_limiter.hpp"
#include "net/connection_rate.hpp"
#include "net/connection_tracker.hpp"
#include "net/io_context_pool.hpp"
#include "net/tls_context.hpp"

namespace postamt::net {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

std::atomic<std::uint64_t> g_next_session_id{1};

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  return address.to_string() + ":" + std::to_string(endpoint.port());
}

// IPv4-mapped IPv6 peers count as their IPv4 address for the per-IP limit.
std::string client_ip(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

struct ListenerMetrics {
  metrics::Counter& accepted;
  metrics::Counter& refused_total;
  metrics::Counter& refused_per_ip;
  metrics::Counter& refused_unauthenticated;
  metrics::Counter& refused_unauthenticated_per_ip;
  metrics::Counter& refused_banned;
  metrics::Counter& refused_rate;
  metrics::Gauge& active;

  explicit ListenerMetrics(Protocol protocol)
      : accepted(metrics::registry().counter("postamt_connections_accepted_total",
                                             "Connections accepted",
                                             {{"protocol", std::string(protocol_name(protocol))}})),
        refused_total(metrics::registry().counter(
            "postamt_connections_refused_total", "Connections refused by a limit",
            {{"protocol", std::string(protocol_name(protocol))}, {"limit", "total"}})),
        refused_per_ip(metrics::registry().counter(
            "postamt_connections_refused_total", "Connections refused by a limit",
            {{"protocol", std::string(protocol_name(protocol))}, {"limit", "per_ip"}})),
        refused_unauthenticated(metrics::registry().counter(
            "postamt_connections_refused_total", "Connections refused by a limit",
            {{"protocol", std::string(protocol_name(protocol))}, {"limit", "unauthenticated"}})),
        refused_unauthenticated_per_ip(metrics::registry().counter(
            "postamt_connections_refused_total", "Connections refused by a limit",
            {{"protocol", std::string(protocol_name(protocol))},
             {"limit", "unauthenticated_per_ip"}})),
        refused_banned(metrics::registry().counter(
            "postamt_connections_refused_total", "Connections refused by a limit",
            {{"protocol", std::string(protocol_name(protocol))}, {"limit", "banned"}})),
        refused_rate(metrics::registry().counter(
            "postamt_connections_refused_total", "Connections refused by a limit",
            {{"protocol", std::string(protocol_name(protocol))}, {"limit", "rate"}})),
        active(metrics::registry().gauge("postamt_connections_active", "Connections open now",
                                         {{"protocol", std::string(protocol_name(protocol))}})) {}
};

asio::awaitable<void> refuse(asio::ip::tcp::socket socket, std::string text) {
  // Best effort: the client learns why, then the socket closes. A short timer bounds a
  // client that does not read.
  asio::steady_timer timer(socket.get_executor());
  timer.expires_after(std::chrono::seconds(2));
  timer.async_wait([&socket](const std::error_code& ec) {
    if (!ec) socket.close();
  });
  if (!text.empty()) co_await asio::async_write(socket, asio::buffer(text), kUseTuple);
  timer.cancel();
  asio::error_code ignored;  // closing a refused socket; the peer may be gone already
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

// What a banned client reads before the close (issue 15 §7): nothing on implicit-TLS ports
// (no handshake is made for it).
std::string banned_text(Protocol protocol) {
  switch (protocol) {
    case Protocol::smtp:
    case Protocol::submission:
      return "554 5.7.1 Your address is banned for abuse; try again later\r\n";
    case Protocol::imap:
      return "* BYE Your address is banned for abuse; try again later\r\n";
    case Protocol::pop3:
      return "-ERR Your address is banned for abuse; try again later\r\n";
    default:
      return {};
  }
}

asio::awaitable<void> run_session(std::shared_ptr<Connection> connection, SessionHandler handler,
                                  ConnectionLimiter::Slot slot, ConnectionTracker& tracker,
                                  bool implicit_tls, metrics::Gauge& active) {
  connection->attach_slot(std::move(slot));  // released when the connection closes
  const auto& info = connection->info();
  active.add(1);
  connection->start();
  const auto started = std::chrono::steady_clock::now();
  log::debug("conn.open", {{"sid", info.session_id},
                           {"proto", protocol_name(info.protocol)},
                           {"remote", info.remote_ip},
                           {"local", info.local_address}});
  try {
    bool ready = true;
    if (implicit_tls) {
      auto shaken = co_await connection->start_tls();
      if (!shaken) {
        ready = false;
        log::info("tls.handshake_failed",
                  {{"sid", info.session_id}, {"remote", info.remote_ip}, {"error", shaken.error()}});
      }
    }
    if (ready) co_await handler(connection);
  } catch (const std::exception& e) {
    // The last-resort catch per session: the server keeps serving everyone else.
    log::error("session.exception", {{"sid", info.session_id}, {"error", e.what()}});
  }
  connection->close();
  tracker.remove(info.session_id);
  active.sub(1);
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  log::debug("conn.close", {{"sid", info.session_id}, {"seconds", elapsed.count()}});
}

}  // namespace

Listener::Listener(ListenerConfig config, ListenerServices services, ProtocolBehaviour behaviour)
    : config_(std::move(config)),
      services_(services),
      behaviour_(std::move(behaviour)),
      acceptor_(services.pool.main_context()) {}

Listener::~Listener() { stop(); }

Result<void> Listener::bind() {
  asio::error_code ec;
  const auto address = asio::ip::make_address(config_.host, ec);
  if (ec) return permanent_error("listener " + config_.address() + ": bad address");
  const asio::ip::tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec && address.is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return permanent_error("cannot listen on " + config_.address() + " (" +
                           std::string(protocol_name(config_.protocol)) + "): " + ec.message());
  }
  return {};
}

std::string Listener::bound_address() const {
  asio::error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? config_.address() : endpoint_text(endpoint);
}

void Listener::start() {
  asio::co_spawn(acceptor_.get_executor(), [this] { return accept_loop(); }, asio::detached);
}

void Listener::stop() {
  asio::error_code ignored;  // stopping an acceptor that is already closed is fine
  acceptor_.close(ignored);
}

asio::awaitable<void> Listener::accept_loop() {
  ListenerMetrics counters(config_.protocol);
  const std::string local = bound_address();
  while (acceptor_.is_open()) {
    auto& worker = services_.pool.next_context();
    auto [ec, socket] = co_await acceptor_.async_accept(worker, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      log::warn("accept.failed", {{"listen", local}, {"error", ec.message()}});
      // Out of descriptors (EMFILE/ENFILE): back off instead of spinning.
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    asio::error_code endpoint_ec;
    const auto remote = socket.remote_endpoint(endpoint_ec);
    if (endpoint_ec) continue;  // the client already went away
    const std::string ip = client_ip(remote.address());
    if (services_.banned && *services_.banned && (*services_.banned)(ip)) {
      counters.refused_banned.inc();
      log::info("conn.refused", {{"proto", protocol_name(config_.protocol)}, {"remote", ip}, {"limit", "banned"}});
      auto executor = socket.get_executor();
      asio::co_spawn(executor, refuse(std::move(socket), banned_text(config_.protocol)), asio::detached);
      continue;
    }
    if (services_.connection_rate &&
        !services_.connection_rate->admit(ip, ConnectionRate::Clock::now())) {
      counters.refused_rate.inc();
      log::info("conn.refused", {{"proto", protocol_name(config_.protocol)}, {"remote", ip}, {"limit", "rate"}});
      auto executor = socket.get_executor();
      asio::co_spawn(executor, refuse(std::move(socket), behaviour_.refusal_text), asio::detached);
      continue;
    }
    auto decision = services_.limiter.try_acquire(ip);
    if (!decision.slot) {
      switch (decision.refusal) {
        case ConnectionLimiter::Refusal::total: counters.refused_total.inc(); break;
        case ConnectionLimiter::Refusal::per_ip: counters.refused_per_ip.inc(); break;
        case ConnectionLimiter::Refusal::unauthenticated: counters.refused_unauthenticated.inc(); break;
        case ConnectionLimiter::Refusal::unauthenticated_per_ip:
          counters.refused_unauthenticated_per_ip.inc();
          break;
      }
      log::info("conn.refused", {{"proto", protocol_name(config_.protocol)},
                                 {"remote", ip},
                                 {"limit", refusal_name(decision.refusal)}});
      auto executor = socket.get_executor();
      asio::co_spawn(executor, refuse(std::move(socket), behaviour_.refusal_text), asio::detached);
      continue;
    }
    counters.accepted.inc();
    socket.set_option(asio::ip::tcp::no_delay(true), endpoint_ec);
    ConnectionInfo info;
    info.session_id = g_next_session_id.fetch_add(1);
    info.protocol = config_.protocol;
    info.remote_ip = ip;
    info.remote_port = remote.port();
    info.local_address = local;
    auto connection = std::make_shared<Connection>(
        Stream(std::move(socket), services_.tls.current()), std::move(info),
        services_.limits.idle_timeout, services_.limits.max_line_length);
    connection->set_slow_client_limits(services_.limits.command_timeout,
                                       services_.limits.min_transfer_rate);
    services_.tracker.add(connection);
    auto executor = connection->executor();
    asio::co_spawn(executor,
                   run_session(connection, behaviour_.handler, std::move(*decision.slot),
                               services_.tracker, behaviour_.implicit_tls, counters.active),
                   asio::detached);
  }
}

}  // namespace postamt::net
