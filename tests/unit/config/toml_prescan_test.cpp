#include "server/config/toml_prescan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>

#include "server/config/config_loader.hpp"

namespace postamt::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::optional<ConfigProblem> prescan(std::string_view text) { return prescan_toml(text, "t.toml"); }

TEST(TomlPrescan, AsciiAndNonAsciiInStringsAndCommentsPass) {
  for (const std::string_view text : {
           "", "a = 1\n",
           "a = \"\xC3\xA9\"\n",              // é in a basic string
           "a = '\xC3\xA9'\n",                // literal string
           "a = \"\"\"\n\xC3\xA9\n\"\"\"\n",  // multi-line basic
           "a = '''\xC3\xA9'''\n",            // multi-line literal
           "# Gr\xC3\xB6\xC3\x9F"
           "e\n",                 // comment
           "\"\xC3\xA9\" = 1\n",  // quoted key
           "a = [\"\xC3\xA9\", { b = '\xE2\x82\xAC' }]\n",
           "a = \"\"\"x\\\\\xC3\xA9\"\"\"\n",  // escaped backslash, then é
           "a = \"\"\"\\\"\xC3\xA9\"\"\"\n",   // escaped quote, then é
           "a = \"\"\"\xC3\xA9\"\"\"\"\n",     // four closing quotes
           "a = 1979-05-27 # \xC3\xA9\n",
           "\xEF\xBB\xBF"
           "a = 1\n",                     // byte order mark
           "a = \"\xF0\x9F\x93\xAE\"\n",  // four-byte sequence
       }) {
    EXPECT_EQ(prescan(text), std::nullopt) << text;
  }
}

TEST(TomlPrescan, NonAsciiOutsideStringsIsASyntaxError) {
  const auto problem = prescan("a = 1\n\xC3\xA9 = 2\n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->key, "");
  EXPECT_EQ(problem->line, 2u);
  EXPECT_EQ(problem->column, 1u);
  EXPECT_EQ(problem->message, "syntax error: non-ASCII character outside a string or comment");
}

TEST(TomlPrescan, ByteOrderMarkIsNotAColumn) {
  const auto problem = prescan("\xEF\xBB\xBF\xC3\xA9 = 1\n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->line, 1u);
  EXPECT_EQ(problem->column, 1u);
}

TEST(TomlPrescan, InputsThatMadeTomlPlusPlusMisbehaveAreRejected) {
  // Each of these reached __builtin_unreachable() inside toml++ 3.3 (found by fuzz_config).
  for (const std::string_view text : {
           "a = 1\xC3\xA9\n",
           "a = [\xC3\xA9]\n",
           "a=1 \xD0\x96\n",
           "\xCC\xA4\"\"\n",
           "a = 127.0.0.1'''\xC3\xA9''E\n",
           "a =+[\"\xC3\xA9\"]\n",
           "216.'.\t'\xC3\xA9q'",
           "a = 1979-05-27T07:32:00\xC3\xA9\n",
           "a = \"\"\"\\\xC3\xA9\"\"\"\n",
           "a = \"\"\"\\  \xC3\xA9\"\"\"\n",
       }) {
    const auto problem = prescan(text);
    ASSERT_TRUE(problem) << text;
    EXPECT_THAT(problem->message, StartsWith("syntax error: ")) << text;
    EXPECT_EQ(problem->line, 1u) << text;
  }
}

TEST(TomlPrescan, NonAsciiAfterLineEndingBackslashIsRefused) {
  // Valid TOML, but toml++ 3.3 cannot parse it safely.
  const auto problem = prescan("a = \"\"\"\\\n  \n  \xC2\xA7\"\"\"\n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->line, 3u);
  EXPECT_EQ(problem->column, 3u);
  EXPECT_THAT(problem->message, HasSubstr("line-ending backslash"));
}

TEST(TomlPrescan, InvalidUtf8IsASyntaxError) {
  for (const std::string_view text : {
           "a = \"\xFF\"\n",
           "a = \"\xC0\xAF\"\n",          // overlong '/'
           "a = \"\xED\xA0\x80\"\n",      // surrogate
           "a = \"\xF4\x90\x80\x80\"\n",  // above U+10FFFF
           "a = \"\xE2\x82\"\n",          // truncated
           "a = \"\xC3",                  // truncated at the end
       }) {
    const auto problem = prescan(text);
    ASSERT_TRUE(problem) << text;
    EXPECT_EQ(problem->message, "syntax error: invalid UTF-8");
    EXPECT_EQ(problem->line, 1u);
    EXPECT_EQ(problem->column, 6u);
  }
}

TEST(TomlPrescan, OtherSyntaxErrorsKeepTomlPlusPlusDescription) {
  const auto problem = prescan("a = \"\xC3\xA9\"\nb = \n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->line, 2u);
  EXPECT_THAT(problem->message, StartsWith("syntax error: "));
  EXPECT_THAT(problem->message, ::testing::Not(HasSubstr("non-ASCII")));
}

TEST(TomlPrescan, ParseConfigKeepsNonAsciiStrings) {
  const auto config = parse_config(
      "# Postamt f\xC3\xBCr die Gr\xC3\xB6\xC3\x9F"
      "e\n"
      "[server]\ndata_dir = \"/srv/m\xC3\xBCller\"\n"
      "[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n",
      "/etc/postamt.toml");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server.data_dir, std::filesystem::path("/srv/m\xC3\xBCller"));
}

TEST(TomlPrescan, ParseConfigReportsNonAsciiKey) {
  const auto config = parse_config("[server]\nhostn\xC3\xA1me = \"x\"\n", "/etc/postamt.toml");
  ASSERT_FALSE(config);
  ASSERT_EQ(config.error().problems.size(), 1u);
  EXPECT_EQ(
      config.error().to_string(),
      "/etc/postamt.toml:2:6: syntax error: non-ASCII character outside a string or comment\n");
}

}  // namespace
}  // namespace postamt::config
