// HeaderFieldReader and filter_header_fields (RFC 5322 §2.2, RFC 9051 §6.4.5
// HEADER.FIELDS / HEADER.FIELDS.NOT).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imap/message/header_field_reader.hpp"
#include "imap/message/header_fields_filter.hpp"
#include "imap_message_test_support.hpp"

namespace postamt::imap {
namespace {

using test::crlf;

TEST(HeaderFieldReader, FieldsWithFoldingUntilTheEmptyLine) {
  const std::string header = crlf(
      "Subject: one\n"
      "Received: from a\n"
      "\tby b\n"
      "  for c\n"
      "Obsolete-Form : x\n"
      "no colon here\n"
      "\n"
      "Body: not a field\n");
  HeaderFieldReader reader(header);
  auto f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "Subject");
  EXPECT_EQ(f->raw_value, " one");
  EXPECT_EQ(f->bytes, "Subject: one\r\n");
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "Received");
  EXPECT_EQ(f->raw_value, " from a\r\n\tby b\r\n  for c");
  EXPECT_EQ(f->bytes, "Received: from a\r\n\tby b\r\n  for c\r\n");
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "Obsolete-Form");
  EXPECT_EQ(f->raw_value, " x");
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->has_colon);
  EXPECT_EQ(f->name, "no colon here");
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.empty_line(), "\r\n");
  EXPECT_FALSE(reader.next());
}

TEST(HeaderFieldReader, HeaderWithoutEmptyLineOrFinalLineBreak) {
  HeaderFieldReader reader("A: 1\nB: 2");
  auto f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->bytes, "A: 1\n");
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->bytes, "B: 2");
  EXPECT_EQ(f->raw_value, " 2");
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.empty_line(), "");
  EXPECT_FALSE(HeaderFieldReader("").next());
}

TEST(HeaderFieldsFilter, SelectsCaseInsensitivelyInOriginalOrder) {
  const std::string header = crlf(
      "received: from a\n"
      "  by b\n"
      "Subject: s\n"
      "RECEIVED: from c\n"
      "To: t\n"
      "\n");
  const std::vector<std::string> names = {"RECEIVED"};
  EXPECT_EQ(filter_header_fields(header, names, FieldSelection::only_listed),
            crlf("received: from a\n  by b\nRECEIVED: from c\n\n"));
  EXPECT_EQ(filter_header_fields(header, names, FieldSelection::all_but_listed),
            crlf("Subject: s\nTo: t\n\n"));
}

TEST(HeaderFieldsFilter, NameMustMatchWholly) {
  const std::string header = crlf("Subject: s\nSubjects: x\nSub: y\n\n");
  const std::vector<std::string> names = {"SUBJECT"};
  EXPECT_EQ(filter_header_fields(header, names, FieldSelection::only_listed),
            crlf("Subject: s\n\n"));
}

TEST(HeaderFieldsFilter, LinesWithoutColonAndMissingLineBreaks) {
  const std::vector<std::string> names = {"A"};
  EXPECT_EQ(filter_header_fields("junk\r\nA: 1", names, FieldSelection::only_listed),
            "A: 1\r\n\r\n");
  EXPECT_EQ(filter_header_fields("junk\r\nA: 1", names, FieldSelection::all_but_listed),
            "junk\r\n\r\n");
  EXPECT_EQ(filter_header_fields("", names, FieldSelection::only_listed), "\r\n");
}

TEST(HeaderFieldsFilter, BareLfHeaderKeepsItsEmptyLine) {
  const std::vector<std::string> names = {"B"};
  EXPECT_EQ(filter_header_fields("A: 1\nB: 2\n\nbody\n", names, FieldSelection::only_listed),
            "B: 2\n\n");
}

}  // namespace
}  // namespace postamt::imap
