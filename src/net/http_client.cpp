#include "net/http_client.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <memory>

#include "proto/http/response_parser.hpp"

namespace postamt::net {

namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

// The socket, the resolver and the one timer that ends them when the deadline passes.
struct ExchangeState {
  explicit ExchangeState(const asio::any_io_executor& executor)
      : socket(executor), resolver(executor), timer(executor) {}
  asio::ip::tcp::socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer timer;
  bool expired = false;
};

std::unexpected<HttpError> failure(const ExchangeState& state, HttpFailure kind, std::string message) {
  if (state.expired) return std::unexpected(HttpError{HttpFailure::timeout, "timed out"});
  return std::unexpected(HttpError{kind, std::move(message)});
}

}  // namespace

std::string_view http_failure_name(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::timeout: return "timeout";
    case HttpFailure::connect: return "connect";
    case HttpFailure::io: return "io";
    case HttpFailure::protocol: return "protocol";
  }
  return "io";
}

asio::awaitable<std::expected<proto::http::Response, HttpError>> http_exchange(HttpExchange exchange) {
  if (exchange.request.host.empty()) exchange.request.host = exchange.url.authority();
  auto wire = proto::http::encode_request(exchange.request);
  if (!wire) co_return std::unexpected(HttpError{HttpFailure::protocol, wire.error().message});

  const auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<ExchangeState>(executor);
  state->timer.expires_after(exchange.timeout);
  state->timer.async_wait([weak = std::weak_ptr<ExchangeState>(state)](const std::error_code& ec) {
    if (ec) return;
    if (auto s = weak.lock()) {
      s->expired = true;
      s->resolver.cancel();
      std::error_code ignored;
      s->socket.close(ignored);
    }
  });

  // Connect: an address literal directly, a name through the resolver (each address in turn).
  const std::string port = std::to_string(exchange.url.port);
  std::error_code parse_error;
  const auto literal = asio::ip::make_address(exchange.url.host, parse_error);
  if (!parse_error) {
    auto [ec] = co_await state->socket.async_connect(asio::ip::tcp::endpoint(literal, exchange.url.port), kUseTuple);
    if (ec || state->expired) {
      co_return failure(*state, HttpFailure::connect, "connect to " + exchange.url.authority() + ": " + ec.message());
    }
  } else {
    auto [resolve_ec, endpoints] = co_await state->resolver.async_resolve(exchange.url.host, port, kUseTuple);
    if (resolve_ec || state->expired) {
      co_return failure(*state, HttpFailure::connect, "resolve " + exchange.url.host + ": " + resolve_ec.message());
    }
    auto [ec, endpoint] = co_await asio::async_connect(state->socket, endpoints, kUseTuple);
    if (ec || state->expired) {
      co_return failure(*state, HttpFailure::connect, "connect to " + exchange.url.authority() + ": " + ec.message());
    }
  }

  {
    auto [ec, written] = co_await asio::async_write(state->socket, asio::buffer(*wire), kUseTuple);
    if (ec || state->expired) co_return failure(*state, HttpFailure::io, "write: " + ec.message());
  }

  proto::http::ResponseParser parser(exchange.max_response_body);
  std::array<char, 16384> buffer;
  for (;;) {
    auto [ec, n] = co_await state->socket.async_read_some(asio::buffer(buffer), kUseTuple);
    if (state->expired) co_return failure(*state, HttpFailure::timeout, "timed out");
    if (n > 0) {
      auto done = parser.feed(std::string_view(buffer.data(), n));
      if (!done) co_return failure(*state, HttpFailure::protocol, done.error().message);
      if (*done) break;
    }
    if (ec == asio::error::eof) {
      if (auto finished = parser.finish(); !finished) {
        co_return failure(*state, HttpFailure::protocol, finished.error().message);
      }
      break;
    }
    if (ec) co_return failure(*state, HttpFailure::io, "read: " + ec.message());
  }
  state->timer.cancel();
  std::error_code ignored;
  state->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  state->socket.close(ignored);
  co_return parser.take();
}

}  // namespace postamt::net
