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
