#pragma once
// One HTTP/1.1 request/response exchange over TCP (rspamd's /checkv2, its controller's
// /learnspam): connect, write the request, read the response, all within one total
// deadline. The wire format is proto/http's; this is only the socket around it.
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "proto/http/message.hpp"
#include "proto/http/url.hpp"

namespace postamt::net {

// What went wrong, for metrics and logs (stable names: http_failure_name()).
enum class HttpFailure {
  timeout,   // the total deadline passed
  connect,   // the name did not resolve or no address accepted the connection
  io,        // the connection broke while writing or reading
  protocol,  // the peer's bytes were not an HTTP response (or too large)
};

struct HttpError {
  HttpFailure failure = HttpFailure::io;
  std::string message;
};

std::string_view http_failure_name(HttpFailure failure);

struct HttpExchange {
  proto::http::Url url;  // where to connect (host, port); the request's target is separate
  proto::http::Request request;  // request.host is filled from the URL when empty
  std::chrono::milliseconds timeout{10000};
  std::size_t max_response_body = 1024 * 1024;
};

// Runs on the caller's executor; never throws.
asio::awaitable<std::expected<proto::http::Response, HttpError>> http_exchange(HttpExchange exchange);

}  // namespace postamt::net
