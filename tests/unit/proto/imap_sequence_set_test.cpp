#include "proto/imap/sequence_set.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postamt::proto::imap {
namespace {

SequenceSet parsed(std::string_view text) {
  auto set = SequenceSet::parse(text);
  EXPECT_TRUE(set) << text << ": " << (set ? "" : set.error());
  return set ? *set : SequenceSet{};
}

std::string resolved(std::string_view text, std::uint32_t max) {
  std::string out;
  for (const auto& r : parsed(text).resolve(max)) {
    out += std::to_string(r.low) + "-" + std::to_string(r.high) + ",";
  }
  return out;
}

TEST(ImapSequenceSet, Forms) {
  auto single = parsed("7");
  ASSERT_EQ(single.ranges().size(), 1u);
  EXPECT_EQ(single.ranges()[0].first, 7u);
  EXPECT_EQ(single.ranges()[0].last, 7u);
  EXPECT_TRUE(single.contains(7, 10));
  EXPECT_FALSE(single.contains(6, 10));
  EXPECT_FALSE(single.contains(7, 6));  // beyond the largest number in use

  auto star = parsed("*");
  EXPECT_EQ(star.ranges()[0].first, SequenceSet::kStar);
  EXPECT_TRUE(star.contains(10, 10));
  EXPECT_FALSE(star.contains(9, 10));
  EXPECT_FALSE(star.contains(1, 0));

  auto range = parsed("2:4");
  EXPECT_FALSE(range.contains(1, 10));
  EXPECT_TRUE(range.contains(2, 10));
  EXPECT_TRUE(range.contains(4, 10));
  EXPECT_FALSE(range.contains(5, 10));

  auto reversed = parsed("4:2");  // RFC 9051 §9: either order
  EXPECT_TRUE(reversed.contains(3, 10));
  EXPECT_FALSE(reversed.contains(5, 10));

  auto open = parsed("5:*");
  EXPECT_TRUE(open.contains(5, 10));
  EXPECT_TRUE(open.contains(10, 10));
  EXPECT_FALSE(open.contains(4, 10));
  EXPECT_TRUE(open.contains(3, 3));  // "*" is 3, so 5:* is 3:5

  auto list = parsed("1,3:4,*:8,4294967295");
  EXPECT_EQ(list.ranges().size(), 4u);
  EXPECT_TRUE(list.contains(1, 10));
  EXPECT_FALSE(list.contains(2, 10));
  EXPECT_TRUE(list.contains(9, 10));
  EXPECT_TRUE(list.contains(4294967295u, 4294967295u));

  auto saved = parsed("$");
  EXPECT_TRUE(saved.is_saved_result());
  EXPECT_TRUE(saved.ranges().empty());
  EXPECT_FALSE(saved.contains(1, 10));
}

TEST(ImapSequenceSet, ResolveWithoutExpansion) {
  EXPECT_EQ(resolved("1:4294967295", 4294967295u), "1-4294967295,");
  EXPECT_EQ(resolved("4:2,*,9:*", 10), "2-4,10-10,9-10,");
  EXPECT_EQ(resolved("20:30,5,12:*", 10), "5-5,10-10,");
  EXPECT_EQ(resolved("1:*", 0), "");
}

TEST(ImapSequenceSet, Errors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "Empty sequence set"},
      {"0", "Sequence numbers start at 1"},
      {"1:0", "Sequence numbers start at 1"},
      {"01", "Sequence numbers start at 1"},
      {"4294967296", "Sequence number too large"},
      {"99999999999999999999999", "Sequence number too large"},
      {"1,", "Empty number in sequence set"},
      {",1", "Empty number in sequence set"},
      {"1,,2", "Empty number in sequence set"},
      {"1:", "Empty number in sequence set"},
      {":1", "Empty number in sequence set"},
      {"1:2:3", "Invalid character in sequence set"},
      {"a", "Invalid character in sequence set"},
      {"-1", "Invalid character in sequence set"},
      {"1 2", "Invalid character in sequence set"},
      {"**", "Invalid character in sequence set"},
      {"$,1", "Invalid character in sequence set"},
      {"1,$", "Invalid character in sequence set"},
      {"$$", "Invalid character in sequence set"},
  };
  for (const auto& [text, reason] : cases) {
    auto set = SequenceSet::parse(text);
    ASSERT_FALSE(set) << text;
    EXPECT_EQ(set.error(), reason) << text;
  }
}

}  // namespace
}  // namespace postamt::proto::imap
