// PARTIAL (RFC 9394): the range syntax, the window it takes of a result, and the SEARCH /
// SORT return option and FETCH modifier that carry it.
#include <gtest/gtest.h>

#include "imap_parse_helpers.hpp"
#include "proto/imap/partial_range.hpp"

namespace postamt::proto::imap {
namespace {

using test::error_of;
using test::parse_as;

TEST(PartialRange, ParsesBothDirectionsInEitherOrder) {
  EXPECT_EQ(parse_partial_range("1:100").value(), (PartialRange{false, 1, 100}));
  EXPECT_EQ(parse_partial_range("500:400").value(), (PartialRange{false, 400, 500}));  // §3.1
  EXPECT_EQ(parse_partial_range("-1:-100").value(), (PartialRange{true, 1, 100}));
  EXPECT_EQ(parse_partial_range("-500:-400").value(), (PartialRange{true, 400, 500}));
  EXPECT_EQ(parse_partial_range("7:7").value(), (PartialRange{false, 7, 7}));
  EXPECT_EQ(parse_partial_range("1:4294967295").value().last, 4294967295u);
  EXPECT_EQ(partial_range_text(PartialRange{true, 1, 100}), "-1:-100");
  EXPECT_EQ(partial_range_text(PartialRange{false, 400, 500}), "400:500");
}

TEST(PartialRange, RefusesWhatTheGrammarDoesNot) {
  for (const char* bad : {"", "1", "0:5", "1:0", "-1:5", "1:-5", "01:5", "1:*", "*:1", "1:4294967296",
                          "-0:-1", "--1:-2", "1:2:3", "a:b", " 1:2", "1:2 "}) {
    EXPECT_FALSE(parse_partial_range(bad)) << bad;
  }
}

TEST(PartialRange, WindowsFromTheStartAndFromTheEnd) {
  using Window = std::pair<std::size_t, std::size_t>;
  EXPECT_EQ(partial_window({false, 1, 3}, 10), (Window{0, 3}));
  EXPECT_EQ(partial_window({false, 9, 20}, 10), (Window{8, 10}));   // cut at the end
  EXPECT_EQ(partial_window({false, 11, 20}, 10), (Window{10, 10}));  // past it: empty
  EXPECT_EQ(partial_window({true, 1, 3}, 10), (Window{7, 10}));      // the last three
  EXPECT_EQ(partial_window({true, 2, 2}, 10), (Window{8, 9}));       // the one before last
  EXPECT_EQ(partial_window({true, 5, 50}, 10), (Window{0, 6}));      // reaches the first
  EXPECT_EQ(partial_window({true, 11, 12}, 10), (Window{10, 10}));
  EXPECT_EQ(partial_window({false, 1, 1}, 0), (Window{0, 0}));
  EXPECT_EQ(partial_window({true, 1, 4294967295u}, 3), (Window{0, 3}));
}

TEST(PartialRange, SearchReturnOption) {
  auto search = parse_as<SearchCommand>("t UID SEARCH RETURN (PARTIAL -1:-50 COUNT) UNDELETED");
  ASSERT_TRUE(search.return_options);
  EXPECT_EQ(search.return_options->partial, (PartialRange{true, 1, 50}));
  EXPECT_TRUE(search.return_options->count);
  EXPECT_FALSE(search.return_options->all);
  EXPECT_NE(error_of("t SEARCH RETURN (ALL PARTIAL 1:10) ALL").find("ALL and PARTIAL"), std::string::npos);
  EXPECT_NE(error_of("t SEARCH RETURN (PARTIAL) ALL").find("PARTIAL needs a range"), std::string::npos);
  EXPECT_NE(error_of("t SEARCH RETURN (PARTIAL 0:10) ALL").find("non-zero"), std::string::npos);
  auto sort = parse_as<SortCommand>("t SORT RETURN (PARTIAL 1:20) (REVERSE DATE) UTF-8 ALL");
  ASSERT_TRUE(sort.return_options);
  EXPECT_EQ(sort.return_options->partial, (PartialRange{false, 1, 20}));
}

TEST(PartialRange, FetchModifier) {
  auto fetch = parse_as<FetchCommand>("t UID FETCH 1:* (FLAGS) (PARTIAL -1:-30)");
  EXPECT_EQ(fetch.partial, (PartialRange{true, 1, 30}));
  fetch = parse_as<FetchCommand>("t UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5 PARTIAL 1:10)");
  EXPECT_EQ(fetch.changed_since, 5u);
  EXPECT_EQ(fetch.partial, (PartialRange{false, 1, 10}));
  EXPECT_NE(error_of("t UID FETCH 1:* (FLAGS) (PARTIAL)").find("PARTIAL needs a range"), std::string::npos);
}

}  // namespace
}  // namespace postamt::proto::imap
