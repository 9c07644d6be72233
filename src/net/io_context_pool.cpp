#include "net/io_context_pool.hpp"

#include <algorithm>

namespace postamt::net {

IoContextPool::IoContextPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

IoContextPool::~IoContextPool() {
  stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

asio::io_context& IoContextPool::next_context() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoContextPool::run() {
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    threads_.emplace_back([context = contexts_[i].get()] { context->run(); });
  }
  contexts_.front()->run();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void IoContextPool::stop() {
  guards_.clear();
  for (auto& context : contexts_) context->stop();
}

}  // namespace postamt::net
