#pragma once
// Deadline: a timer that runs an action (cancel or close a socket) when an I/O step takes
// too long (RFC 5321 §4.5.3.2 reply timeouts). Arm it before each step, disarm after.
// Safe to destroy with the timer pending: the action never runs after destruction.
// Use it from one thread (the io_context that owns the I/O it guards).
#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace postamt::queue {

class Deadline {
 public:
  Deadline(asio::any_io_executor executor, std::function<void()> on_expiry);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void arm(std::chrono::steady_clock::duration timeout);
  void disarm();
  // Whether the last armed period ran out (the guarded step failed because of it).
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool alive = true;
    bool expired = false;
    std::uint64_t generation = 0;  // a late handler of an earlier arm() does nothing
    std::function<void()> on_expiry;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace postamt::queue
