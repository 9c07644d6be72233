#include "queue/retry_schedule.hpp"

#include <algorithm>

namespace postamt::queue {

storage::UnixTime RetrySchedule::next_attempt(unsigned attempts, storage::UnixTime now,
                                              storage::UnixTime queued_at) const {
  // Doubling stops once the cap is reached; 2^30 seconds is beyond any configurable cap.
  const unsigned doublings = std::min(attempts == 0 ? 0u : attempts - 1, 30u);
  const std::int64_t initial_seconds = std::max<std::int64_t>(initial.count(), 1);
  const std::int64_t delay =
      std::min<std::int64_t>(initial_seconds << doublings, std::max<std::int64_t>(max.count(), 1));
  return std::min(now + delay, std::max(give_up_at(queued_at), now));
}

bool RetrySchedule::expired(storage::UnixTime queued_at, storage::UnixTime now) const {
  return now >= give_up_at(queued_at);
}

storage::UnixTime RetrySchedule::give_up_at(storage::UnixTime queued_at) const {
  return queued_at + lifetime.count();
}

}  // namespace postamt::queue
