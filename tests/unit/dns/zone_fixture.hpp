#pragma once
// The resolver tests' DNS server: tests/unit/dns/zone_server.py (python3-dnslib) on a free
// loopback port, started once per test suite, and a fixture that runs lookups against it.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "dns/resolver.hpp"

#ifndef POSTAMT_TEST_DATA_DIR
#error "POSTAMT_TEST_DATA_DIR is needed to find zone_server.py"
#endif

namespace postamt::dns::testing {

using namespace std::chrono_literals;

class ZoneServer {
 public:
  bool start() {
    std::string script = std::string(POSTAMT_TEST_DATA_DIR) + "/../unit/dns/zone_server.py";
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      execl("/usr/bin/python3", "python3", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    stdin_ = to_child[1];
    std::string line;
    pollfd wait{from_child[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && poll(&wait, 1, 10000) == 1) {
      char buffer[64];
      ssize_t n = read(from_child[0], buffer, sizeof buffer);
      if (n <= 0) break;
      line.append(buffer, static_cast<std::size_t>(n));
    }
    close(from_child[0]);
    if (line.rfind("PORT ", 0) != 0) return false;
    port_ = std::stoi(line.substr(5));
    return true;
  }

  void stop() {
    if (stdin_ >= 0) close(stdin_);  // the server exits when its stdin closes
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    stdin_ = -1;
    pid_ = -1;
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

class ZoneServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    zone = new ZoneServer;
    ASSERT_TRUE(zone->start()) << "zone_server.py did not start";
  }
  static void TearDownTestSuite() {
    zone->stop();
    delete zone;
    zone = nullptr;
  }

  static ResolverOptions options() {
    ResolverOptions options;
    options.servers = {"127.0.0.1:" + std::to_string(zone->port())};
    options.attempt_timeout = 250ms;  // silence ends after 250 + 500 ms
    options.attempts = 2;
    options.random = [](std::size_t) { return std::size_t{0}; };
    return options;
  }

  // The resolver of this test, created with options() unless use() gave others first.
  Resolver& resolver() {
    if (!resolver_) use(options());
    return *resolver_;
  }

  void use(ResolverOptions settings) {
    resolver_.reset();
    auto created = Resolver::create(io_.get_executor(), std::move(settings));
    ASSERT_TRUE(created) << created.error().message;
    resolver_.emplace(std::move(*created));
  }

  template <class T>
  T run(asio::awaitable<T> lookup) {
    std::optional<T> result;
    asio::co_spawn(io_, std::move(lookup), [&](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      result = std::move(value);
      io_.stop();  // abandoned queries may keep c-ares's timer busy a while longer
    });
    io_.restart();
    io_.run_for(5s);
    EXPECT_TRUE(result.has_value()) << "lookup did not finish";
    return result ? std::move(*result) : T{};
  }

  inline static ZoneServer* zone = nullptr;
  asio::io_context io_;
  std::optional<Resolver> resolver_;
};

inline std::vector<std::string> texts(const std::vector<asio::ip::address>& addresses) {
  std::vector<std::string> out;
  for (const auto& address : addresses) out.push_back(address.to_string());
  return out;
}

}  // namespace postamt::dns::testing
