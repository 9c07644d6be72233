#include "auth/throttle_state.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace postamt::auth {
namespace {

using namespace std::chrono_literals;
using Clock = AuthThrottle::Clock;

TEST(ThrottleState, LocksRoundTripThroughTheirTextForm) {
  const auto now = Clock::now();
  const std::vector<ThrottleEntry> entries = {
      {ThrottleEntry::Kind::source, "2001:db8::/64", 10, now + 300s, {}},
      {ThrottleEntry::Kind::account, "alice@example.test", 5, now + 120s, 4s},
  };
  const auto lines = parse_locks(format_locks(entries, now) + "garbage line\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].kind, "source");
  EXPECT_EQ(lines[0].key, "2001:db8::/64");
  EXPECT_EQ(lines[0].failures, 10u);
  EXPECT_NEAR(static_cast<double>(lines[0].until), static_cast<double>(std::time(nullptr) + 300), 2.0);
  EXPECT_EQ(lines[1].kind, "account");
  EXPECT_EQ(lines[1].delay_ms, 4000);
}

TEST(ThrottleState, UnlockRequestsAreNamedByTheirTargetAndTakenOnce) {
  const auto dir = std::filesystem::temp_directory_path() / ("postamt-unlock-" + std::to_string(::getpid()));
  std::filesystem::create_directories(unlock_requests_dir(dir));
  for (const char* target : {"192.0.2.7", "o'brien/x@example.test"}) {
    std::ofstream(unlock_request_path(dir, target)).flush();
  }
  std::ofstream(unlock_requests_dir(dir) / "not-hex").flush();
  auto taken = take_unlock_requests(dir);
  std::ranges::sort(taken);
  EXPECT_EQ(taken, (std::vector<std::string>{"192.0.2.7", "o'brien/x@example.test"}));
  EXPECT_TRUE(take_unlock_requests(dir).empty());
  EXPECT_TRUE(std::filesystem::is_empty(unlock_requests_dir(dir)));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace postamt::auth
