#pragma once
// One io_context per thread (DESIGN: no shared session state, no strands in protocol
// code). Context 0 is run by the thread that calls run(); it also hosts listeners and
// signal handling.
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace postamt::net {

class IoContextPool {
 public:
  explicit IoContextPool(unsigned threads);  // 0: one per core
  ~IoContextPool();

  asio::io_context& main_context() { return *contexts_.front(); }
  // Round-robin choice for a new connection.
  asio::io_context& next_context();
  std::size_t size() const { return contexts_.size(); }

  // Runs every context; returns when all have stopped.
  void run();
  void stop();

 private:
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace postamt::net
