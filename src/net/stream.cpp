#include "net/stream.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace postamt::net {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

asio::ssl::context& placeholder_context() {
  // ssl::stream needs a context even when the listener has no certificate; this one is
  // never used for a handshake because tls_available() is false.
  static asio::ssl::context context(asio::ssl::context::tls_server);
  return context;
}

}  // namespace

Stream::Stream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
    : tls_context_(std::move(tls)),
      stream_(std::move(socket), tls_context_ ? *tls_context_ : placeholder_context()) {}

asio::awaitable<std::expected<std::size_t, std::error_code>> Stream::read_some(std::span<char> buffer) {
  auto target = asio::buffer(buffer.data(), buffer.size());
  auto [ec, n] = tls_active_ ? co_await stream_.async_read_some(target, kUseTuple)
                             : co_await stream_.next_layer().async_read_some(target, kUseTuple);
  if (ec) co_return std::unexpected(ec);
  co_return n;
}

asio::awaitable<std::expected<void, std::error_code>> Stream::write_all(std::string_view data) {
  auto source = asio::buffer(data.data(), data.size());
  auto [ec, n] = tls_active_ ? co_await asio::async_write(stream_, source, kUseTuple)
                             : co_await asio::async_write(stream_.next_layer(), source, kUseTuple);
  (void)n;
  if (ec) co_return std::unexpected(ec);
  co_return std::expected<void, std::error_code>{};
}

asio::awaitable<std::expected<void, std::error_code>> Stream::handshake() {
  if (!tls_context_) co_return std::unexpected(std::make_error_code(std::errc::operation_not_supported));
  auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kUseTuple);
  if (ec) co_return std::unexpected(ec);
  tls_active_ = true;
  co_return std::expected<void, std::error_code>{};
}

asio::awaitable<std::expected<void, std::error_code>> Stream::client_handshake(std::string server_name) {
  if (!tls_context_) co_return std::unexpected(std::make_error_code(std::errc::operation_not_supported));
  asio::error_code not_an_address;
  (void)asio::ip::make_address(server_name, not_an_address);
  // RFC 6066 §3: literal IP addresses are not sent as a server name.
  if (!server_name.empty() && not_an_address) {
    SSL_set_tlsext_host_name(stream_.native_handle(), server_name.c_str());
  }
  auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (ec) co_return std::unexpected(ec);
  tls_active_ = true;
  co_return std::expected<void, std::error_code>{};
}

std::string Stream::tls_version() const {
  if (!tls_active_) return {};
  return SSL_get_version(const_cast<asio::ssl::stream<asio::ip::tcp::socket>&>(stream_).native_handle());
}

std::string Stream::tls_cipher() const {
  if (!tls_active_) return {};
  auto* ssl = const_cast<asio::ssl::stream<asio::ip::tcp::socket>&>(stream_).native_handle();
  const char* name = SSL_get_cipher_name(ssl);
  return name ? name : "";
}

void Stream::cancel() {
  asio::error_code ignored;  // cancelling a closed socket is not an error worth reporting
  stream_.next_layer().cancel(ignored);
}

void Stream::close() {
  asio::error_code ignored;  // the peer may already be gone; closing is best effort
  stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.next_layer().close(ignored);
}

}  // namespace postamt::net
