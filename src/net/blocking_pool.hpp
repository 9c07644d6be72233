#pragma once
// BlockingPool: the few threads where blocking work runs (SQLite, fsync, password
// hashing), so that I/O threads never wait on a disk or a hash. A coroutine writes
//   auto account = co_await pool.run([&] { return store.find_account(address); });
// and resumes on its own executor when the work is done.
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>

namespace postamt::net {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads) : pool_(threads) {}
  ~BlockingPool() { pool_.join(); }

  // The work is used by reference: it lives in the awaiting coroutine's full-expression
  // until the result is back. Never copying it sidesteps a g++ 12 defect that destroys
  // coroutine-owned copies of closures twice; for the same reason, prefer closures that
  // capture by reference.
  template <class Work, class Value = std::invoke_result_t<Work&>>
    requires(!std::is_void_v<Value> && std::is_default_constructible_v<Value>)
  asio::awaitable<Value> run(Work&& work) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, Value)>(
        [this](auto handler, std::remove_reference_t<Work>* work) {
          auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
          asio::post(pool_, [work, handler = std::move(handler), guard = std::move(guard)]() mutable {
            std::exception_ptr error;
            Value value{};
            try {
              value = (*work)();
            } catch (...) {
              error = std::current_exception();  // rethrown in the awaiting coroutine
            }
            auto executor = guard.get_executor();
            asio::post(executor, [handler = std::move(handler), error, value = std::move(value)]() mutable {
              std::move(handler)(error, std::move(value));
            });
          });
        },
        asio::use_awaitable, &work);
  }

  // Abandons the work not yet started and waits for the work in flight: what that work
  // uses (the store, above all) may be destroyed as soon as this returns.
  void stop() {
    pool_.stop();
    pool_.join();
  }

 private:
  asio::thread_pool pool_;
};

}  // namespace postamt::net
