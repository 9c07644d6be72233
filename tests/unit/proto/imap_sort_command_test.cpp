// SORT and THREAD command syntax (RFC 5256 §5, ESORT RFC 5267 §3.2, RFC 5957 §3).
#include <gtest/gtest.h>

#include "imap_parse_helpers.hpp"

namespace postamt::proto::imap {
namespace {

using test::error_of;
using test::parse_as;

TEST(ImapSortCommand, RfcExamples) {
  // RFC 5256 §3 examples.
  auto sort = parse_as<SortCommand>("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994");
  EXPECT_FALSE(sort.uid);
  EXPECT_EQ(sort.criteria, (std::vector<SortCriterion>{{SortKey::subject, false}}));
  EXPECT_EQ(sort.charset, "UTF-8");
  ASSERT_EQ(sort.key.children.size(), 1u);
  EXPECT_EQ(sort.key.children[0].kind, SearchKey::Kind::since);
  EXPECT_FALSE(sort.return_options);

  sort = parse_as<SortCommand>("A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL");
  EXPECT_EQ(sort.criteria, (std::vector<SortCriterion>{{SortKey::subject, false}, {SortKey::date, true}}));

  sort = parse_as<SortCommand>("A284 SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"");
  EXPECT_EQ(sort.charset, "US-ASCII");
  EXPECT_EQ(sort.key.children[0].kind, SearchKey::Kind::text);
  EXPECT_EQ(sort.key.children[0].text, "not in mailbox");
}

TEST(ImapSortCommand, EveryKeyUidAndCase) {
  auto sort = parse_as<SortCommand>(
      "a uid sort (arrival cc date from size subject to displayfrom reverse displayto) utf-8 "
      "OR FROM x (UNSEEN LARGER 5)");
  EXPECT_TRUE(sort.uid);
  EXPECT_EQ(sort.criteria, (std::vector<SortCriterion>{{SortKey::arrival, false},
                                                       {SortKey::cc, false},
                                                       {SortKey::date, false},
                                                       {SortKey::from, false},
                                                       {SortKey::size, false},
                                                       {SortKey::subject, false},
                                                       {SortKey::to, false},
                                                       {SortKey::display_from, false},
                                                       {SortKey::display_to, true}}));
  EXPECT_EQ(sort.key.children[0].kind, SearchKey::Kind::or_);
  sort = parse_as<SortCommand>("a SORT (DATE) \"utf-8\" ALL");
  EXPECT_EQ(sort.charset, "UTF-8");
}

TEST(ImapSortCommand, EsortReturnOptions) {
  auto sort = parse_as<SortCommand>("a SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL");
  ASSERT_TRUE(sort.return_options);
  EXPECT_TRUE(sort.return_options->min);
  EXPECT_TRUE(sort.return_options->max);
  EXPECT_TRUE(sort.return_options->count);
  EXPECT_FALSE(sort.return_options->all);
  sort = parse_as<SortCommand>("a UID SORT RETURN () (DATE) UTF-8 ALL");
  ASSERT_TRUE(sort.return_options);
  EXPECT_TRUE(sort.return_options->all);
  EXPECT_NE(error_of("a SORT RETURN (SAVE) (DATE) UTF-8 ALL"), "");
  EXPECT_EQ(error_of("a SORT RETURN (PARTIAL 1:10) (DATE) UTF-8 ALL"), "");  // RFC 9394
  EXPECT_NE(error_of("a SORT RETURN (CONTEXT) (DATE) UTF-8 ALL"), "");
}

TEST(ImapSortCommand, Errors) {
  EXPECT_NE(error_of("a SORT"), "");
  EXPECT_NE(error_of("a SORT (DATE)"), "");                // charset is mandatory
  EXPECT_NE(error_of("a SORT (DATE) UTF-8"), "");          // and a search key
  EXPECT_NE(error_of("a SORT DATE UTF-8 ALL"), "");        // criteria need parentheses
  EXPECT_NE(error_of("a SORT () UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT (REVERSE) UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT (REVERSE REVERSE DATE) UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT (DATE REVERSE) UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT (SENDER) UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT ((DATE)) UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT (\"DATE\") UTF-8 ALL"), "");
  EXPECT_NE(error_of("a SORT (DATE) (UTF-8) ALL"), "");
  EXPECT_NE(error_of("a SORT (DATE) UTF-8 BOGUS"), "");
  // A charset the server does not know still parses: the session answers NO [BADCHARSET].
  EXPECT_EQ(error_of("a SORT (DATE) KOI8-R ALL"), "");
}

TEST(ImapThreadCommand, AlgorithmsAndErrors) {
  auto thread = parse_as<ThreadCommand>("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000");
  EXPECT_EQ(thread.algorithm, ThreadAlgorithm::ordered_subject);
  EXPECT_FALSE(thread.uid);
  EXPECT_EQ(thread.charset, "UTF-8");
  thread = parse_as<ThreadCommand>("A284 uid thread references us-ascii TEXT \"gewp\"");
  EXPECT_EQ(thread.algorithm, ThreadAlgorithm::references);
  EXPECT_TRUE(thread.uid);
  EXPECT_EQ(thread.charset, "US-ASCII");
  EXPECT_NE(error_of("a THREAD"), "");
  EXPECT_NE(error_of("a THREAD REFS UTF-8 ALL"), "");
  EXPECT_NE(error_of("a THREAD REFERENCES"), "");
  EXPECT_NE(error_of("a THREAD REFERENCES UTF-8"), "");
  EXPECT_NE(error_of("a THREAD (REFERENCES) UTF-8 ALL"), "");
}

}  // namespace
}  // namespace postamt::proto::imap
