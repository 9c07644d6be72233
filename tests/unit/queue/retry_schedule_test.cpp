#include "queue/retry_schedule.hpp"

#include <gtest/gtest.h>

namespace postamt::queue {
namespace {

using namespace std::chrono_literals;

TEST(RetrySchedule, DoublesFromTheInitialDelayUpToTheCap) {
  const RetrySchedule schedule{60s, 3600s, 5 * 24h};
  const storage::UnixTime queued = 1'000'000;
  EXPECT_EQ(schedule.next_attempt(1, queued, queued), queued + 60);
  EXPECT_EQ(schedule.next_attempt(2, queued, queued), queued + 120);
  EXPECT_EQ(schedule.next_attempt(3, queued, queued), queued + 240);
  EXPECT_EQ(schedule.next_attempt(6, queued, queued), queued + 1920);
  EXPECT_EQ(schedule.next_attempt(7, queued, queued), queued + 3600);
  EXPECT_EQ(schedule.next_attempt(500, queued, queued), queued + 3600) << "no overflow on many attempts";
}

TEST(RetrySchedule, TheLastAttemptFallsOnTheGiveUpTime) {
  const RetrySchedule schedule{60s, 4h, 1h};
  const storage::UnixTime queued = 1'000'000;
  EXPECT_EQ(schedule.next_attempt(10, queued + 3500, queued), queued + 3600);
  EXPECT_FALSE(schedule.expired(queued, queued + 3599));
  EXPECT_TRUE(schedule.expired(queued, queued + 3600));
  // Already past the give-up time (a server that was down): try now, then bounce.
  EXPECT_EQ(schedule.next_attempt(1, queued + 9000, queued), queued + 9000);
}

}  // namespace
}  // namespace postamt::queue
