#pragma once
// Stream: a TCP connection that may switch to TLS in place (STARTTLS) or start in TLS
// (implicit TLS listeners). Sessions read and write through it without caring which.
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace postamt::net {

class Stream {
 public:
  // `tls` may be null: the stream then cannot start TLS.
  Stream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls);

  asio::awaitable<std::expected<std::size_t, std::error_code>> read_some(std::span<char> buffer);
  asio::awaitable<std::expected<void, std::error_code>> write_all(std::string_view data);
  // Server-side TLS handshake; afterwards every read and write is encrypted.
  asio::awaitable<std::expected<void, std::error_code>> handshake();
  // Client-side handshake (outbound STARTTLS, RFC 3207), naming the server for SNI
  // (RFC 6066 §3) unless `server_name` is empty or an IP literal. The context decides
  // whether the peer's certificate is verified.
  asio::awaitable<std::expected<void, std::error_code>> client_handshake(std::string server_name);

  bool tls_available() const { return tls_context_ != nullptr; }
  bool tls_active() const { return tls_active_; }
  // "TLSv1.3" and "TLS_AES_256_GCM_SHA384" once TLS is active, empty before.
  std::string tls_version() const;
  std::string tls_cipher() const;

  asio::ip::tcp::socket& socket() { return stream_.next_layer(); }
  asio::any_io_executor executor() { return stream_.get_executor(); }
  // Aborts pending operations (they complete with operation_aborted).
  void cancel();
  void close();

 private:
  std::shared_ptr<asio::ssl::context> tls_context_;  // keeps the context alive
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  bool tls_active_ = false;
};

}  // namespace postamt::net
