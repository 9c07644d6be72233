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

  template <class Work>
    requires(!std::is_void_v<std::invoke_result_t<Work&>>)
  asio::awaitable<std::invoke_result_t<Work&>> run(Work work) {
    using Value = std::invoke_result_t<Work&>;
    // A leading exception_ptr in the signature makes use_awaitable rethrow it here.
    std::optional<Value> value = co_await asio::async_initiate<decltype(asio::use_awaitable),
                                                         void(std::exception_ptr, std::optional<Value>)>(
        [this, &work](auto handler) {
          auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
          asio::post(pool_, [&work, handler = std::move(handler), guard = std::move(guard)]() mutable {
            std::exception_ptr error;
            std::optional<Value> value;
            try {
              value.emplace(work());
            } catch (...) {
              error = std::current_exception();  // rethrown on the caller's side below
            }
            auto executor = guard.get_executor();
            asio::post(executor, [handler = std::move(handler), error, value = std::move(value)]() mutable {
              std::move(handler)(error, std::move(value));
            });
          });
        },
        asio::use_awaitable);
    co_return std::move(*value);
  }

  void stop() { pool_.stop(); }

 private:
  asio::thread_pool pool_;
};

}  // namespace postamt::net
