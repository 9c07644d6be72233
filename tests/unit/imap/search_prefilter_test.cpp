// required_substrings: the needles every message matching a SEARCH key must contain, which
// the full-text index can look up (BODY / TEXT at the top level or inside AND groups).
#include "imap/search_prefilter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postamt::imap {
namespace {

using proto::imap::SearchKey;
using Kind = SearchKey::Kind;
using Needles = std::vector<std::string>;

SearchKey key(Kind kind, std::string text = {}) {
  SearchKey k;
  k.kind = kind;
  k.text = std::move(text);
  return k;
}

SearchKey group(Kind kind, std::vector<SearchKey> children) {
  SearchKey k;
  k.kind = kind;
  k.children = std::move(children);
  return k;
}

// The command's top level is an AND of every key.
SearchKey top(std::vector<SearchKey> children) { return group(Kind::and_, std::move(children)); }

TEST(RequiredSubstrings, BodyAndTextAtTheTopLevel) {
  EXPECT_EQ(required_substrings(top({key(Kind::body, "invoice")})), Needles{"invoice"});
  EXPECT_EQ(required_substrings(top({key(Kind::text, "Meeting")})), Needles{"meeting"});
  EXPECT_EQ(required_substrings(top({key(Kind::body, "alpha"), key(Kind::seen),
                                     key(Kind::text, "omega")})),
            (Needles{"alpha", "omega"}));
}

TEST(RequiredSubstrings, InsideAndGroupsButNotUnderNotOrOr) {
  EXPECT_EQ(required_substrings(top({group(Kind::and_, {key(Kind::body, "nested"),
                                                        group(Kind::and_, {key(Kind::text, "deeper")})})})),
            (Needles{"deeper", "nested"}))
      << "longest first, then in byte order";
  EXPECT_TRUE(required_substrings(top({group(Kind::not_, {key(Kind::body, "spam")})})).empty())
      << "NOT BODY x matches messages without x";
  EXPECT_TRUE(required_substrings(top({group(Kind::or_, {key(Kind::body, "left"),
                                                         key(Kind::body, "right")})}))
                  .empty())
      << "either one may be missing";
  EXPECT_EQ(required_substrings(top({group(Kind::or_, {key(Kind::body, "left"), key(Kind::all)}),
                                     key(Kind::body, "kept")})),
            Needles{"kept"});
  EXPECT_TRUE(required_substrings(
                  top({group(Kind::not_, {group(Kind::not_, {key(Kind::body, "twice")})})}))
                  .empty())
      << "not looked into at all";
}

TEST(RequiredSubstrings, OtherKeysPromiseNoIndexedText) {
  SearchKey header = key(Kind::header, "X-Mailer");
  header.value = "mutt-client";
  EXPECT_TRUE(required_substrings(top({key(Kind::subject, "quarterly"),
                                       key(Kind::from, "alice@example.com"), header,
                                       key(Kind::keyword, "$label"), key(Kind::all)}))
                  .empty());
  EXPECT_TRUE(required_substrings(key(Kind::all)).empty());
}

TEST(RequiredSubstrings, NeedlesAreFoldedAsTheMatcherFolds) {
  EXPECT_EQ(required_substrings(top({key(Kind::body, "STRASSE")})), Needles{"strasse"});
  EXPECT_EQ(required_substrings(top({key(Kind::body, "Straße")})), Needles{"strasse"})
      << "full case folding: ß is ss";
  EXPECT_EQ(required_substrings(top({key(Kind::text, "ÄPFEL")})), Needles{"äpfel"});
  EXPECT_EQ(required_substrings(top({key(Kind::text, std::string("a\xff" "bc"))})),
            Needles{"a\xEF\xBF\xBD" "bc"})
      << "invalid octets become U+FFFD, as for the text";
}

TEST(RequiredSubstrings, ShortNeedlesAreLeftOut) {
  EXPECT_TRUE(required_substrings(top({key(Kind::body, "")})).empty());
  EXPECT_TRUE(required_substrings(top({key(Kind::body, "ab")})).empty());
  EXPECT_TRUE(required_substrings(top({key(Kind::body, "äö")})).empty()) << "two characters";
  EXPECT_TRUE(required_substrings(top({key(Kind::body, "東京")})).empty());
  EXPECT_EQ(required_substrings(top({key(Kind::body, "東京都")})), Needles{"東京都"});
  EXPECT_EQ(required_substrings(top({key(Kind::body, "abc")})), Needles{"abc"});
  EXPECT_EQ(required_substrings(top({key(Kind::body, "ab"), key(Kind::body, "xyz")})),
            Needles{"xyz"});
  // "ß" folds to "ss": one character asked, two after folding... still short of three.
  EXPECT_TRUE(required_substrings(top({key(Kind::body, "ß")})).empty());
  EXPECT_EQ(required_substrings(top({key(Kind::body, "aß")})), Needles{"ass"});
}

TEST(RequiredSubstrings, NeedlesOthersContainAreDropped) {
  EXPECT_EQ(required_substrings(top({key(Kind::body, "report"), key(Kind::text, "Quarterly Report"),
                                     key(Kind::body, "REPORT")})),
            Needles{"quarterly report"});
  EXPECT_EQ(required_substrings(top({key(Kind::body, "abc"), key(Kind::body, "abc")})),
            Needles{"abc"});
}

TEST(RequiredSubstrings, AtMostEightOfTheLongest) {
  std::vector<SearchKey> keys;
  for (int i = 0; i < 20; ++i)
    keys.push_back(key(Kind::body, std::string(static_cast<std::size_t>(3 + i), 'a' + i % 26)));
  const Needles needles = required_substrings(top(std::move(keys)));
  ASSERT_EQ(needles.size(), kMaxIndexedNeedles);
  EXPECT_EQ(needles.front().size(), 22u);
  EXPECT_EQ(needles.back().size(), 15u);
}

TEST(RequiredSubstrings, LongNeedlesAreCutAtACharacter) {
  std::string needle;
  for (int i = 0; i < 300; ++i) needle += "é";
  const Needles needles = required_substrings(top({key(Kind::body, needle)}));
  ASSERT_EQ(needles.size(), 1u);
  EXPECT_EQ(needles[0].size(), 2 * kMaxIndexedNeedleCharacters);
  EXPECT_EQ(needle.substr(0, needles[0].size()), needles[0]);
}

TEST(RequiredSubstrings, DeepNestingCostsNoStack) {
  SearchKey root = key(Kind::body, "bottom");
  for (int i = 0; i < 2000; ++i) root = group(Kind::and_, {std::move(root)});
  EXPECT_EQ(required_substrings(root), Needles{"bottom"});
}

}  // namespace
}  // namespace postamt::imap
