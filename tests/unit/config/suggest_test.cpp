#include "server/config/suggest.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace postamt::config {
namespace {

TEST(EditDistance, Basics) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("hostname", "hostname"), 0u);
  EXPECT_EQ(edit_distance("hostnme", "hostname"), 1u);    // deletion
  EXPECT_EQ(edit_distance("hostnamee", "hostname"), 1u);  // insertion
  EXPECT_EQ(edit_distance("hostnane", "hostname"), 1u);   // substitution
  EXPECT_EQ(edit_distance("hostanme", "hostname"), 1u);   // transposition
  EXPECT_EQ(edit_distance("HostName", "hostname"), 0u);   // case folded
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // optimal string alignment, not full Damerau
}

TEST(ClosestMatch, PicksTheNearestWithinTwoEdits) {
  constexpr std::array<std::string_view, 4> kNames = {"max_connections", "max_connections_per_ip",
                                                      "idle_timeout_seconds", "max_line_length"};
  EXPECT_EQ(closest_match("max_connection", kNames), "max_connections");
  EXPECT_EQ(closest_match("max_connections_per_ips", kNames), "max_connections_per_ip");
  EXPECT_EQ(closest_match("idle_timeout_secs", kNames), std::nullopt);  // 3 edits away
  EXPECT_EQ(closest_match("", kNames), std::nullopt);
  EXPECT_EQ(closest_match(std::string(5000, 'x'), kNames), std::nullopt);
  EXPECT_EQ(closest_match("anything", std::span<const std::string_view>{}), std::nullopt);
}

TEST(ClosestMatch, TiesGoToTheFirstCandidate) {
  constexpr std::array<std::string_view, 2> kNames = {"imap", "imaps"};
  EXPECT_EQ(closest_match("imapx", kNames), "imap");
}

}  // namespace
}  // namespace postamt::config
