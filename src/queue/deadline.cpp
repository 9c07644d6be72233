#include "queue/deadline.hpp"

namespace postamt::queue {

Deadline::Deadline(asio::any_io_executor executor, std::function<void()> on_expiry)
    : timer_(std::move(executor)), state_(std::make_shared<State>()) {
  state_->on_expiry = std::move(on_expiry);
}

Deadline::~Deadline() {
  state_->alive = false;
  timer_.cancel();
}

void Deadline::arm(std::chrono::steady_clock::duration timeout) {
  state_->expired = false;
  const std::uint64_t generation = ++state_->generation;
  timer_.expires_after(timeout);
  timer_.async_wait([state = state_, generation](const std::error_code& ec) {
    if (ec || !state->alive || state->generation != generation) return;
    state->expired = true;
    state->on_expiry();
  });
}

void Deadline::disarm() {
  ++state_->generation;
  timer_.cancel();
}

}  // namespace postamt::queue
