#include "base/log.hpp"

#include <gtest/gtest.h>

namespace postamt::log {
namespace {

TEST(Log, FormatsKeyValueFields) {
  EXPECT_EQ(format_line("conn.open", {{"sid", 7}, {"remote", "127.0.0.1"}}),
            "conn.open sid=7 remote=127.0.0.1");
}

TEST(Log, QuotesValuesThatWouldBreakTheLine) {
  EXPECT_EQ(format_line("e", {{"error", "no such user"}, {"x", ""}, {"crlf", "a\r\nb"}}),
            "e error=\"no such user\" x=\"\" crlf=\"a\\r\\nb\"");
  EXPECT_EQ(format_line("e", {{"q", "say \"hi\"=1"}}), "e q=\"say \\\"hi\\\"=1\"");
  EXPECT_EQ(format_line("e", {{"ctl", std::string("\x01", 1)}}), "e ctl=\"\\x01\"");
}

TEST(Log, LevelFiltering) {
  set_level(LogLevel::warn);
  EXPECT_FALSE(enabled(LogLevel::info));
  EXPECT_TRUE(enabled(LogLevel::error));
  set_level(LogLevel::info);
  EXPECT_TRUE(enabled(LogLevel::info));
}

}  // namespace
}  // namespace postamt::log
