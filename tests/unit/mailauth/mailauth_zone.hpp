#pragma once
// The mailauth tests' DNS server: zone_runner.py (tests/peers/dns_zone.py's ZoneServer) on a
// free loopback port, started once per test suite, and helpers to run coroutines.
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

#include "dns/resolver.hpp"

#ifndef POSTAMT_TEST_DATA_DIR
#error "POSTAMT_TEST_DATA_DIR is needed to find zone_runner.py"
#endif

namespace postamt::mailauth::testing {

using namespace std::chrono_literals;

class ZoneProcess {
 public:
  bool start() {
    std::string script = std::string(POSTAMT_TEST_DATA_DIR) + "/../unit/mailauth/zone_runner.py";
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
    if (stdin_ >= 0) close(stdin_);
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

class MailauthZoneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    zone = new ZoneProcess;
    ASSERT_TRUE(zone->start()) << "zone_runner.py did not start";
  }
  static void TearDownTestSuite() {
    zone->stop();
    delete zone;
    zone = nullptr;
  }

  static dns::ResolverOptions options() {
    dns::ResolverOptions options;
    options.servers = {"127.0.0.1:" + std::to_string(zone->port())};
    options.attempt_timeout = 200ms;
    options.attempts = 1;
    options.lookup_deadline = 600ms;
    return options;
  }

  dns::Resolver& resolver() {
    if (!resolver_) {
      auto created = dns::Resolver::create(io_.get_executor(), options());
      EXPECT_TRUE(created) << created.error().message;
      resolver_.emplace(std::move(*created));
    }
    return *resolver_;
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    std::optional<T> result;
    asio::co_spawn(io_, std::move(work), [&](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      result = std::move(value);
      io_.stop();
    });
    io_.restart();
    io_.run_for(5s);
    EXPECT_TRUE(result.has_value()) << "did not finish";
    return result ? std::move(*result) : T{};
  }

  inline static ZoneProcess* zone = nullptr;
  asio::io_context io_;
  std::optional<dns::Resolver> resolver_;
};

}  // namespace postamt::mailauth::testing
