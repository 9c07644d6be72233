// The network layer over real loopback sockets: bounded lines, exact reads, idle
// timeouts, shutdown requests, and STARTTLS dropping what was pipelined before it.
#include "net/connection.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/steady_timer.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include "net/blocking_pool.hpp"
#include "net/connection_limiter.hpp"
#include "net/self_signed_cert.hpp"
#include "net/tls_context.hpp"

namespace postamt::net {
namespace {

using tcp = asio::ip::tcp;

struct Pair {
  std::shared_ptr<Connection> server;
  tcp::socket client;
};

Pair connect_pair(asio::io_context& io, std::chrono::seconds idle, std::size_t max_line,
                  std::shared_ptr<asio::ssl::context> tls = nullptr) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket accepted = acceptor.accept();
  auto connection = std::make_shared<Connection>(Stream(std::move(accepted), std::move(tls)),
                                                 ConnectionInfo{}, idle, max_line);
  return {connection, std::move(client)};
}

template <class Body>
void run_coroutine(asio::io_context& io, Body body) {
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await body();
    done = true;
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run_for(std::chrono::seconds(20));
  ASSERT_TRUE(done) << "coroutine did not finish";
}

TEST(Connection, ReadsLinesAndExactPayloads) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64);
  server->start();
  asio::write(client, asio::buffer(std::string("HELLO\r\n{4}\r\nab\r\nNEXT\r\n")));
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    auto first = co_await server->read_line();
    EXPECT_EQ(first->text, "HELLO");
    auto literal_head = co_await server->read_line();
    EXPECT_EQ(literal_head->text, "{4}");
    auto literal = co_await server->read_exact(4);
    EXPECT_EQ(*literal, "ab\r\n");
    auto next = co_await server->read_line();
    EXPECT_EQ(next->text, "NEXT");
    server->close();
  });
}

TEST(Connection, OverlongLineIsAnErrorAndTheConnectionGoesOn) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 32);
  server->start();
  asio::write(client, asio::buffer(std::string(100000, 'x') + "\r\nOK\r\n"));
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    auto first = co_await server->read_line();
    EXPECT_FALSE(first.has_value());
    EXPECT_EQ(first.error(), ReadError::too_long);
    auto second = co_await server->read_line();
    EXPECT_TRUE(second.has_value());
    if (second) {
      EXPECT_EQ(second->text, "OK");
    }
    server->close();
  });
}

TEST(Connection, IdleTimeoutEndsARead) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(1), 64);
  server->start();
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    const auto started = std::chrono::steady_clock::now();
    auto line = co_await server->read_line();
    EXPECT_FALSE(line.has_value());
    EXPECT_EQ(line.error(), ReadError::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
    server->close();
  });
}

TEST(Connection, ShutdownRequestEndsARead) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64);
  server->start();
  std::thread other([server = server] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server->request_shutdown();  // from another thread, as the drain does
  });
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    auto line = co_await server->read_line();
    EXPECT_FALSE(line.has_value());
    EXPECT_EQ(line.error(), ReadError::shutdown);
    server->close();
  });
  other.join();
}

TEST(Connection, PeerCloseIsClosed) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64);
  server->start();
  client.close();
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    auto line = co_await server->read_line();
    EXPECT_FALSE(line.has_value());
    EXPECT_EQ(line.error(), ReadError::closed);
    server->close();
  });
}

TEST(Connection, StartTlsDropsPipelinedPlaintext) {
  const auto dir = std::filesystem::temp_directory_path() / ("postamt-tls-" + std::to_string(::getpid()));
  TlsConfig tls_config;
  tls_config.cert = dir / "cert.pem";
  tls_config.key = dir / "key.pem";
  tls_config.self_signed = true;
  TlsContextProvider provider(tls_config);
  ASSERT_TRUE(provider.load("mail.example.test"));

  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64, provider.current());
  server->start();
  // The attacker's command rides in the same segment as STARTTLS.
  asio::write(client, asio::buffer(std::string("STARTTLS\r\nMAIL FROM:<injected@x>\r\n")));

  std::string after_tls;
  std::string tls_version;
  std::thread tls_client([&, socket = std::move(client)]() mutable {
    asio::io_context client_io;
    asio::ssl::context client_context(asio::ssl::context::tls_client);
    client_context.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<tcp::socket&> stream(socket, client_context);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stream.handshake(asio::ssl::stream_base::client);
    asio::write(stream, asio::buffer(std::string("AFTER\r\n")));
    asio::error_code ec;
    stream.shutdown(ec);
  });
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    auto command = co_await server->read_line();
    EXPECT_EQ(command->text, "STARTTLS");
    auto upgraded = co_await server->start_tls();
    EXPECT_TRUE(upgraded.has_value());
    auto next = co_await server->read_line();
    EXPECT_TRUE(next.has_value());
    if (next) after_tls = next->text;
    tls_version = server->stream().tls_version();
    server->close();
  });
  tls_client.join();
  EXPECT_EQ(after_tls, "AFTER");  // not the injected MAIL FROM
  EXPECT_TRUE(tls_version == "TLSv1.3" || tls_version == "TLSv1.2") << tls_version;
  std::filesystem::remove_all(dir);
}

TEST(ConnectionLimiter, CapsTotalAndPerIp) {
  ConnectionLimiter limiter(3, 2);
  auto a1 = limiter.try_acquire("10.0.0.1");
  auto a2 = limiter.try_acquire("10.0.0.1");
  auto a3 = limiter.try_acquire("10.0.0.1");
  EXPECT_TRUE(a1.slot && a2.slot);
  EXPECT_FALSE(a3.slot);
  EXPECT_EQ(a3.refusal, ConnectionLimiter::Refusal::per_ip);
  auto b1 = limiter.try_acquire("10.0.0.2");
  auto b2 = limiter.try_acquire("10.0.0.2");
  EXPECT_TRUE(b1.slot);
  EXPECT_FALSE(b2.slot);
  EXPECT_EQ(b2.refusal, ConnectionLimiter::Refusal::total);
  a1.slot.reset();
  EXPECT_EQ(limiter.total(), 2u);
  EXPECT_EQ(limiter.count_for("10.0.0.1"), 1u);
  EXPECT_TRUE(limiter.try_acquire("10.0.0.3").slot);
}

TEST(ConnectionLimiter, UnauthenticatedConnectionsHaveTheirOwnCaps) {
  ConnectionLimiter limiter(100, 10, 3, 2);
  auto a1 = limiter.try_acquire("10.0.0.1");
  auto a2 = limiter.try_acquire("10.0.0.1");
  auto a3 = limiter.try_acquire("10.0.0.1");
  ASSERT_TRUE(a1.slot && a2.slot);
  EXPECT_FALSE(a3.slot);
  EXPECT_EQ(a3.refusal, ConnectionLimiter::Refusal::unauthenticated_per_ip);
  // A login frees the unauthenticated place; the connection still counts in the total.
  a1.slot->mark_authenticated();
  a1.slot->mark_authenticated();  // twice is once
  EXPECT_EQ(limiter.unauthenticated_total(), 1u);
  auto a4 = limiter.try_acquire("10.0.0.1");
  EXPECT_TRUE(a4.slot);
  EXPECT_EQ(limiter.count_for("10.0.0.1"), 3u);
  auto b1 = limiter.try_acquire("10.0.0.2");
  EXPECT_TRUE(b1.slot);  // the third stranger
  auto b2 = limiter.try_acquire("10.0.0.2");
  EXPECT_FALSE(b2.slot);  // three strangers in all
  EXPECT_EQ(b2.refusal, ConnectionLimiter::Refusal::unauthenticated);
  EXPECT_EQ(refusal_name(b2.refusal), std::string_view("unauthenticated"));
  a1.slot.reset();  // authenticated: frees only its total place
  EXPECT_EQ(limiter.unauthenticated_total(), 3u);
  EXPECT_EQ(limiter.total(), 3u);
  a2.slot.reset();
  EXPECT_EQ(limiter.unauthenticated_total(), 2u);
  EXPECT_TRUE(limiter.try_acquire("10.0.0.2").slot);
  EXPECT_EQ(limiter.total(), 2u);  // the temporary above released its place at once
}

TEST(Connection, CommandClockEndsATrickle) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64);
  server->set_slow_client_limits(std::chrono::seconds(1), 0);
  server->start();
  std::atomic<bool> stop{false};
  std::thread trickler([&stop, &client] {
    // One byte every 200 ms: never idle, never a whole line.
    while (!stop) {
      asio::error_code ec;
      asio::write(client, asio::buffer("x", 1), ec);
      if (ec) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    const auto started = std::chrono::steady_clock::now();
    bool partial = false;  // the "command" never ends: no line end comes
    for (;;) {
      server->set_command_incomplete(partial);
      auto bytes = co_await server->read_some();
      if (!bytes) {
        EXPECT_EQ(bytes.error(), ReadError::timeout);
        break;
      }
      partial = true;
    }
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(server->timeout_reason(), TimeoutReason::command);
    EXPECT_GE(took, std::chrono::milliseconds(900));
    EXPECT_LT(took, std::chrono::seconds(5));
    server->close();
  });
  stop = true;
  trickler.join();
}

TEST(Connection, CommandClockAllowsASteadySender) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64);
  // One second, plus one more per 1000 bytes received: 2000 bytes per second go on.
  server->set_slow_client_limits(std::chrono::seconds(1), 1000);
  server->start();
  std::thread sender([&client] {
    for (int i = 0; i < 30; ++i) {  // 3 seconds at 2000 bytes/s
      asio::error_code ec;
      asio::write(client, asio::buffer(std::string(200, 'y')), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    asio::write(client, asio::buffer(std::string("\r\n")));
  });
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    std::size_t received = 0;
    server->set_command_incomplete(true);
    while (received < 30 * 200 + 2) {
      auto bytes = co_await server->read_some();
      EXPECT_TRUE(bytes.has_value()) << read_error_name(bytes.error());
      if (!bytes) break;
      received += bytes->size();
    }
    server->set_command_incomplete(false);
    EXPECT_EQ(server->timeout_reason(), TimeoutReason::none);
    server->close();
  });
  sender.join();
}

TEST(Connection, LoginClockStopsAtAuthentication) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, std::chrono::seconds(30), 64);
  server->start();
  server->set_login_deadline(std::chrono::seconds(1));
  asio::write(client, asio::buffer(std::string("LOGIN\r\n")));
  run_coroutine(io, [&, server = server]() -> asio::awaitable<void> {
    auto line = co_await server->read_line();
    EXPECT_TRUE(line.has_value());
    server->mark_authenticated();
    EXPECT_TRUE(server->authenticated());
    asio::steady_timer pause(server->executor(), std::chrono::milliseconds(1500));
    co_await pause.async_wait(asio::use_awaitable);
    server->close();
  });
  EXPECT_EQ(server->timeout_reason(), TimeoutReason::none);

  asio::io_context io2;
  auto [late, late_client] = connect_pair(io2, std::chrono::seconds(30), 64);
  late->start();
  late->set_login_deadline(std::chrono::seconds(1));
  run_coroutine(io2, [&, late = late]() -> asio::awaitable<void> {
    auto line = co_await late->read_line();
    EXPECT_FALSE(line.has_value());
    EXPECT_EQ(late->timeout_reason(), TimeoutReason::login);
    late->close();
  });
}

TEST(BlockingPool, RunsWorkOffTheIoThreadAndResumesOnIt) {
  asio::io_context io;
  BlockingPool pool(2);
  const auto io_thread = std::this_thread::get_id();
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    auto worker = co_await pool.run([] { return std::this_thread::get_id(); });
    EXPECT_NE(worker, io_thread);
    EXPECT_EQ(std::this_thread::get_id(), io_thread);
    bool thrown = false;
    try {
      co_await pool.run([]() -> int { throw std::runtime_error("disk on fire"); });
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "disk on fire";
    }
    EXPECT_TRUE(thrown);
  });
}

}  // namespace
}  // namespace postamt::net
