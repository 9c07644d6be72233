// `postamt security events --since`: the forms parse_since reads.
#include "server/security_event_commands.hpp"

#include <gtest/gtest.h>

namespace postamt::server {
namespace {

constexpr std::int64_t kNow = 1'796'000'000;

TEST(ParseSince, RelativeAbsoluteAndUnixSeconds) {
  EXPECT_EQ(parse_since("30m", kNow), kNow - 1800);
  EXPECT_EQ(parse_since("2h", kNow), kNow - 7200);
  EXPECT_EQ(parse_since("7d", kNow), kNow - 7 * 86400);
  EXPECT_EQ(parse_since("45s", kNow), kNow - 45);
  EXPECT_EQ(parse_since("1700000000", kNow), 1'700'000'000);
  EXPECT_EQ(parse_since("2026-12-05T10:00:00Z", kNow), 1'796'464'800);
  EXPECT_EQ(parse_since("2026-12-05", kNow), 1'796'428'800);
  EXPECT_FALSE(parse_since("", kNow));
  EXPECT_FALSE(parse_since("yesterday", kNow));
  EXPECT_FALSE(parse_since("5w", kNow));
  EXPECT_FALSE(parse_since("-5m", kNow));
}

// A span longer than the time since 1970 is everything, not a signed overflow (UBSan).
TEST(ParseSince, HugeSpansMeanEverything) {
  EXPECT_EQ(parse_since("9223372036854775807d", kNow), 0);
  EXPECT_EQ(parse_since("999999999999999999h", kNow), 0);
  EXPECT_EQ(parse_since("106751991167300d", kNow), 0);
  EXPECT_EQ(parse_since("20786d", kNow), kNow - 20786LL * 86400);
}

}  // namespace
}  // namespace postamt::server
