// Connection::start_compression over real loopback sockets (RFC 4978): the client side is
// plain zlib; reads see plain bytes, writes arrive sync-flushed, lines stay bounded and an
// invalid stream ends the connection.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "net/connection.hpp"

namespace postamt::net {
namespace {

using tcp = asio::ip::tcp;

struct Pair {
  std::shared_ptr<Connection> server;
  tcp::socket client;
};

Pair connect_pair(asio::io_context& io, std::size_t max_line) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket accepted = acceptor.accept();
  auto connection = std::make_shared<Connection>(Stream(std::move(accepted), nullptr),
                                                 ConnectionInfo{}, std::chrono::seconds(30),
                                                 max_line);
  return {connection, std::move(client)};
}

// Runs `body`, then closes the server side (which also ends its idle watchdog).
template <class Body>
void run_coroutine(asio::io_context& io, const std::shared_ptr<Connection>& server, Body body) {
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await body();
    server->close();
    done = true;
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(done) << "coroutine did not finish";
}

// The client's two streams, with zlib's defaults (a 32 KiB window).
class ZlibPeer {
 public:
  ZlibPeer() {
    EXPECT_EQ(deflateInit2(&out_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    EXPECT_EQ(inflateInit2(&in_, -15), Z_OK);
  }
  ~ZlibPeer() {
    deflateEnd(&out_);
    inflateEnd(&in_);
  }
  ZlibPeer(const ZlibPeer&) = delete;
  ZlibPeer& operator=(const ZlibPeer&) = delete;

  std::string compress(std::string_view plain) {
    std::string result;
    out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    out_.avail_in = static_cast<uInt>(plain.size());
    char buffer[8192];
    do {
      out_.next_out = reinterpret_cast<Bytef*>(buffer);
      out_.avail_out = sizeof buffer;
      deflate(&out_, Z_SYNC_FLUSH);
      result.append(buffer, sizeof buffer - out_.avail_out);
    } while (out_.avail_out == 0);
    return result;
  }

  // Inflates what the server sent; false on a broken stream.
  bool decompress(std::string_view compressed, std::string& plain) {
    in_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    in_.avail_in = static_cast<uInt>(compressed.size());
    char buffer[8192];
    for (;;) {
      in_.next_out = reinterpret_cast<Bytef*>(buffer);
      in_.avail_out = sizeof buffer;
      const int rc = inflate(&in_, Z_SYNC_FLUSH);
      plain.append(buffer, sizeof buffer - in_.avail_out);
      if (rc == Z_BUF_ERROR || (rc == Z_OK && in_.avail_in == 0 && in_.avail_out > 0)) return true;
      if (rc != Z_OK) return false;
    }
  }

 private:
  z_stream out_{};
  z_stream in_{};
};

// Reads from the client socket until `expected_size` plain bytes have been decoded.
std::string read_plain(tcp::socket& client, ZlibPeer& peer, std::size_t expected_size) {
  std::string plain;
  char buffer[16384];
  while (plain.size() < expected_size) {
    std::error_code ec;
    const std::size_t n = client.read_some(asio::buffer(buffer), ec);
    if (ec) break;
    EXPECT_TRUE(peer.decompress(std::string_view(buffer, n), plain));
  }
  return plain;
}

TEST(ConnectionCompression, ReadsAndWritesThroughDeflate) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, 1024);
  server->start();
  ASSERT_TRUE(server->start_compression().has_value());
  EXPECT_TRUE(server->compression_active());
  ZlibPeer peer;
  asio::write(client, asio::buffer(peer.compress("A1 APPEND INBOX {5}\r\n")));
  asio::write(client, asio::buffer(peer.compress("hello\r\nA2 NOOP\r\n")));
  std::string big;
  for (int i = 0; big.size() < 300 * 1024; ++i) {
    big += "* " + std::to_string(i) + " FETCH (FLAGS (\\Seen) UID " + std::to_string(i) + ")\r\n";
  }
  run_coroutine(io, server, [&, server = server]() -> asio::awaitable<void> {
    auto first = co_await server->read_line();
    EXPECT_EQ(first->text, "A1 APPEND INBOX {5}");
    auto literal = co_await server->read_exact(5);
    EXPECT_EQ(*literal, "hello");
    auto rest = co_await server->read_line();
    EXPECT_EQ(rest->text, "");
    auto second = co_await server->read_line();
    EXPECT_EQ(second->text, "A2 NOOP");
    EXPECT_TRUE(co_await server->write("A1 OK APPEND completed\r\n"));
    EXPECT_TRUE(co_await server->write(big));
  });
  // Each write was flushed: everything decodes without the server sending more.
  const std::string expected = "A1 OK APPEND completed\r\n" + big;
  EXPECT_EQ(read_plain(client, peer, expected.size()), expected);
  server->close();
}

TEST(ConnectionCompression, SecondStartIsRefused) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, 1024);
  ASSERT_TRUE(server->start_compression().has_value());
  EXPECT_FALSE(server->start_compression().has_value());
  server->close();
}

// RFC 4978 §3: the client compresses only after the OK, so earlier bytes are not trusted.
TEST(ConnectionCompression, BytesPipelinedBeforeTheSwitchAreDropped) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, 1024);
  server->start();
  asio::write(client, asio::buffer(std::string("A1 COMPRESS DEFLATE\r\nA2 NOOP\r\n")));
  ZlibPeer peer;
  run_coroutine(io, server, [&, server = server, &client = client]() -> asio::awaitable<void> {
    auto command = co_await server->read_line();
    EXPECT_EQ(command->text, "A1 COMPRESS DEFLATE");
    EXPECT_TRUE(co_await server->write("A1 OK DEFLATE active\r\n"));
    EXPECT_TRUE(server->start_compression().has_value());
    asio::write(client, asio::buffer(peer.compress("A3 NOOP\r\n")));
    auto next = co_await server->read_line();
    EXPECT_EQ(next->text, "A3 NOOP");
  });
  server->close();
}

TEST(ConnectionCompression, ACorruptStreamEndsReadsAsAnIoError) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, 1024);
  server->start();
  ASSERT_TRUE(server->start_compression().has_value());
  asio::write(client, asio::buffer(std::string("A1 NOOP\r\n")));  // not DEFLATE
  run_coroutine(io, server, [&, server = server]() -> asio::awaitable<void> {
    auto line = co_await server->read_line();
    EXPECT_FALSE(line.has_value());
    if (line) co_return;
    EXPECT_EQ(line.error(), ReadError::io);
    auto again = co_await server->read_some();
    EXPECT_FALSE(again.has_value());
    if (again) co_return;
    EXPECT_EQ(again.error(), ReadError::io);
  });
  server->close();
}

// 16 MiB of one line in a few KiB of DEFLATE: the line limit still holds and the
// connection goes on with the next line.
TEST(ConnectionCompression, AnExpandingLineIsStillBoundedByTheLineLimit) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, 1024);
  server->start();
  ASSERT_TRUE(server->start_compression().has_value());
  ZlibPeer peer;
  const std::string bomb = peer.compress(std::string(16 * 1024 * 1024, 'a') + "\r\nNEXT\r\n");
  ASSERT_LT(bomb.size(), 64u * 1024);
  asio::write(client, asio::buffer(bomb));
  run_coroutine(io, server, [&, server = server]() -> asio::awaitable<void> {
    auto first = co_await server->read_line();
    EXPECT_FALSE(first.has_value());
    if (first) co_return;
    EXPECT_EQ(first.error(), ReadError::too_long);
    EXPECT_LE(server->buffered(), 64u * 1024);
    auto next = co_await server->read_line();
    EXPECT_TRUE(next.has_value());
    if (next) {
      EXPECT_EQ(next->text, "NEXT");
    }
  });
  server->close();
}

TEST(ConnectionCompression, ReadSomeHandsOutBoundedPieces) {
  asio::io_context io;
  auto [server, client] = connect_pair(io, 1024);
  server->start();
  ASSERT_TRUE(server->start_compression().has_value());
  ZlibPeer peer;
  const std::size_t size = 4 * 1024 * 1024;
  asio::write(client, asio::buffer(peer.compress(std::string(size, 'b'))));
  run_coroutine(io, server, [&, server = server]() -> asio::awaitable<void> {
    std::size_t total = 0;
    while (total < size) {
      auto piece = co_await server->read_some();
      if (!piece) {
        ADD_FAILURE() << "read failed";
        co_return;
      }
      EXPECT_LE(piece->size(), 16u * 1024);
      total += piece->size();
    }
    EXPECT_EQ(total, size);
  });
  server->close();
}

}  // namespace
}  // namespace postamt::net
