#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "proto/imap/list_pattern.hpp"

namespace postamt::proto::imap {
namespace {

bool matches(std::string_view pattern, std::string_view name) {
  return ListPattern(std::string(pattern)).matches(name);
}

TEST(ImapListPattern, CombinesReferenceAndPattern) {
  EXPECT_EQ(combine_list_reference("", "*"), "*");
  EXPECT_EQ(combine_list_reference("archive/", "%"), "archive/%");
  EXPECT_EQ(combine_list_reference("archive", "%"), "archive%");
  EXPECT_EQ(combine_list_reference("~smith/Mail/", "foo.*"), "~smith/Mail/foo.*");
  EXPECT_EQ(combine_list_reference("#news.", "comp.mail.*"), "#news.comp.mail.*");
  EXPECT_EQ(combine_list_reference("~smith/Mail/", "/usr/doc/foo"), "/usr/doc/foo");
  EXPECT_EQ(combine_list_reference("archive/", ""), "archive/");
  EXPECT_TRUE(ListPattern("archive/", "%").matches("archive/2023"));
  EXPECT_FALSE(ListPattern("archive/", "%").matches("archive/2023/Q1"));
}

TEST(ImapListPattern, Wildcards) {
  EXPECT_TRUE(matches("*", ""));
  EXPECT_TRUE(matches("*", "a/b/c"));
  EXPECT_TRUE(matches("%", "Drafts"));
  EXPECT_FALSE(matches("%", "a/b"));
  EXPECT_TRUE(matches("%", ""));
  EXPECT_TRUE(matches("%/%", "a/b"));
  EXPECT_FALSE(matches("%/%", "a/b/c"));
  EXPECT_TRUE(matches("%/*", "a/b/c"));
  EXPECT_FALSE(matches("%/*", "abc"));
  EXPECT_TRUE(matches("a*c", "abc"));
  EXPECT_TRUE(matches("a*c", "ac"));
  EXPECT_TRUE(matches("a*c", "a/b/c"));
  EXPECT_FALSE(matches("a*c", "a/b/cd"));
  EXPECT_TRUE(matches("a%c", "abbc"));
  EXPECT_FALSE(matches("a%c", "ab/c"));
  EXPECT_TRUE(matches("*/Sent", "Archive/2020/Sent"));
  EXPECT_TRUE(matches("Sent*", "Sent"));
  EXPECT_TRUE(matches("Sent*", "Sent Items"));
  EXPECT_FALSE(matches("Sent", "Sent Items"));
  EXPECT_FALSE(matches("Sent", "sent"));  // case matters except for INBOX
  EXPECT_TRUE(matches("", ""));
  EXPECT_FALSE(matches("", "a"));
  EXPECT_TRUE(matches("**%%*", "x/y"));
  EXPECT_TRUE(matches("%%%", "xyz"));
  EXPECT_FALSE(matches("%%%", "x/z"));
  EXPECT_TRUE(matches("a/%", "a/"));  // "%" may match nothing
  EXPECT_TRUE(matches("&AOQ-*", "&AOQ-rger"));
}

TEST(ImapListPattern, InboxIsCaseInsensitive) {
  EXPECT_TRUE(matches("INBOX", "INBOX"));
  EXPECT_TRUE(matches("inbox", "INBOX"));
  EXPECT_TRUE(matches("InBox", "INBOX"));
  EXPECT_TRUE(matches("INBOX", "inbox"));
  EXPECT_TRUE(matches("in%", "INBOX"));
  EXPECT_TRUE(matches("inbox/%", "INBOX/Sub"));
  EXPECT_TRUE(matches("inbox/*", "Inbox/Sub/Deeper"));
  EXPECT_FALSE(matches("inbox/sub", "INBOX/Sub"));  // only the INBOX level folds
  EXPECT_FALSE(matches("inboxes", "INBOXES"));      // not INBOX
  EXPECT_FALSE(matches("inbox", "INBOXES"));
  EXPECT_TRUE(matches("%", "INBOX"));
  EXPECT_TRUE(ListPattern("", "Inbox").matches("INBOX"));
}

TEST(ImapListPattern, ManyWildcardsStayFast) {
  const std::string name(1000, 'a');
  const std::string stars(100, '*');
  const std::string percents(100, '%');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(matches(stars, name));
  EXPECT_FALSE(matches(stars + "b", name));
  EXPECT_TRUE(matches(percents, name));
  EXPECT_FALSE(matches(percents + "b", name));
  std::string alternating;
  for (int i = 0; i < 100; ++i) alternating += "*a";
  EXPECT_TRUE(matches(alternating, name));
  EXPECT_FALSE(matches(alternating + "b", name));
  std::string slashes;
  for (int i = 0; i < 500; ++i) slashes += "a/";
  EXPECT_FALSE(matches(percents + "/x", slashes));
  EXPECT_TRUE(matches(stars + "/", slashes));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(ImapListPattern, CouldMatchBelow) {
  EXPECT_TRUE(ListPattern("*").could_match_below("a"));
  EXPECT_FALSE(ListPattern("%").could_match_below("a"));
  EXPECT_TRUE(ListPattern("%/%").could_match_below("a"));
  EXPECT_FALSE(ListPattern("%/%").could_match_below("a/b"));
  EXPECT_TRUE(ListPattern("a/b/c").could_match_below("a"));
  EXPECT_TRUE(ListPattern("a/b/c").could_match_below("a/b"));
  EXPECT_FALSE(ListPattern("a/b/c").could_match_below("a/b/c"));
  EXPECT_FALSE(ListPattern("a/b/c").could_match_below("x"));
  EXPECT_TRUE(ListPattern("inbox/%").could_match_below("INBOX"));
  EXPECT_FALSE(ListPattern("").could_match_below(""));
}

TEST(ImapListPattern, MatchesAny) {
  const std::vector<std::string> patterns = {"INBOX", "Drafts", "Sent/%"};
  EXPECT_TRUE(matches_any("", patterns, "inbox"));
  EXPECT_TRUE(matches_any("", patterns, "Sent/2020"));
  EXPECT_FALSE(matches_any("", patterns, "Sent/2020/Q1"));
  EXPECT_FALSE(matches_any("", patterns, "Trash"));
  EXPECT_FALSE(matches_any("", {}, "Trash"));
}

}  // namespace
}  // namespace postamt::proto::imap
