#include "server/http_endpoint.hpp"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "base/log.hpp"
#include "base/metrics.hpp"

namespace postamt::server {

struct HttpEndpoint::State {
  ListenerConfig config;
  httplib::Server server;
  int port = 0;
  std::thread thread;
  std::function<std::string()> health_check;
};

HttpEndpoint::HttpEndpoint(ListenerConfig config) : state_(std::make_unique<State>()) {
  state_->config = std::move(config);
  auto& server = state_->server;
  server.Get("/metrics", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics::registry().render_prometheus(),
                         "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [state = state_.get()](const httplib::Request&, httplib::Response& response) {
    const std::string problems = state->health_check ? state->health_check() : "";
    if (problems.empty()) {
      response.set_content("ok\n", "text/plain; charset=utf-8");
      return;
    }
    response.status = 503;
    response.set_content("not ok\n" + problems + "\n", "text/plain; charset=utf-8");
  });
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_payload_max_length(64 * 1024);
}

HttpEndpoint::~HttpEndpoint() { stop(); }

void HttpEndpoint::set_health_check(std::function<std::string()> check) {
  state_->health_check = std::move(check);
}

Result<void> HttpEndpoint::bind() {
  auto& config = state_->config;
  const int port = config.port == 0 ? state_->server.bind_to_any_port(config.host)
                                    : (state_->server.bind_to_port(config.host, config.port)
                                           ? config.port
                                           : -1);
  if (port <= 0) return permanent_error("cannot listen on " + config.address() + " (http)");
  state_->port = port;
  return {};
}

std::string HttpEndpoint::bound_address() const {
  ListenerConfig bound = state_->config;
  bound.port = static_cast<std::uint16_t>(state_->port);
  return bound.address();
}

void HttpEndpoint::start() {
  state_->thread = std::thread([state = state_.get()] {
    if (!state->server.listen_after_bind()) {
      log::debug("http.stopped", {{"listen", state->config.address()}});
    }
  });
  // cpp-httplib's stop() does nothing until the listening thread has marked itself
  // running; wait for that so a stop right after start cannot leave the thread in accept().
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!state_->server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpEndpoint::stop() {
  if (!state_) return;
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace postamt::server
