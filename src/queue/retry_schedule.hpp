#pragma once
// RetrySchedule: when a recipient that failed temporarily is tried again, and when the
// queue gives up on it (RFC 5321 §4.5.4.1: retry intervals of at least 30 minutes are
// suggested for the general case and a give-up time of at least 4-5 days; both are
// configurable because a test needs seconds and a busy site may want other figures).
//
// After the n-th failed attempt the next one comes initial * 2^(n-1) later, at most `max`
// later, and never after the give-up time: the last attempt happens at expiry, so the
// bounce goes out on time and not up to `max` later.
#include <chrono>

#include "storage/api/types.hpp"

namespace postamt::queue {

struct RetrySchedule {
  std::chrono::seconds initial{60};
  std::chrono::seconds max{4 * 3600};
  std::chrono::seconds lifetime{5 * 24 * 3600};

  // `attempts` counts the failed attempts so far, this one included (>= 1).
  storage::UnixTime next_attempt(unsigned attempts, storage::UnixTime now,
                                 storage::UnixTime queued_at) const;
  // The queue gives up on a message queued at `queued_at`.
  bool expired(storage::UnixTime queued_at, storage::UnixTime now) const;
  storage::UnixTime give_up_at(storage::UnixTime queued_at) const;
};

}  // namespace postamt::queue
