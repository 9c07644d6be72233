#pragma once
// The `http` listener: /metrics (Prometheus text format) and /healthz, for operators.
// cpp-httplib runs it on threads of its own; it never touches mail traffic.
#include <functional>
#include <memory>
#include <string>

#include "base/config.hpp"
#include "base/result.hpp"

namespace postamt::server {

class HttpEndpoint {
 public:
  explicit HttpEndpoint(ListenerConfig config);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // /healthz answers 200 "ok" when the check returns "", else 503 with its text. Set
  // before start().
  void set_health_check(std::function<std::string()> check);

  Result<void> bind();
  std::string bound_address() const;
  void start();
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace postamt::server
