#include <gtest/gtest.h>

#include <string>

#include "proto/imap/fetch_attribute_parser.hpp"

namespace postamt::proto::imap {
namespace {

using Kind = FetchAttribute::Kind;
using Text = Section::Text;

FetchAttribute ok(std::string_view text) {
  auto attribute = parse_fetch_attribute(text);
  if (!attribute) {
    ADD_FAILURE() << text << " -> " << attribute.error();
    return {};
  }
  return *attribute;
}

std::string error(std::string_view text) {
  auto attribute = parse_fetch_attribute(text);
  return attribute ? std::string() : attribute.error();
}

TEST(ImapFetchAttribute, SimpleItems) {
  EXPECT_EQ(ok("ENVELOPE").kind, Kind::envelope);
  EXPECT_EQ(ok("flags").kind, Kind::flags);
  EXPECT_EQ(ok("InternalDate").kind, Kind::internal_date);
  EXPECT_EQ(ok("RFC822").kind, Kind::rfc822);
  EXPECT_EQ(ok("RFC822.HEADER").kind, Kind::rfc822_header);
  EXPECT_EQ(ok("RFC822.TEXT").kind, Kind::rfc822_text);
  EXPECT_EQ(ok("RFC822.SIZE").kind, Kind::rfc822_size);
  EXPECT_EQ(ok("BODY").kind, Kind::body);
  EXPECT_EQ(ok("BODYSTRUCTURE").kind, Kind::body_structure);
  EXPECT_EQ(ok("UID").kind, Kind::uid);
  EXPECT_EQ(ok("MODSEQ").kind, Kind::modseq);
  EXPECT_EQ(error("BODY.PEEK"), "Unknown fetch attribute BODY.PEEK");
  EXPECT_EQ(error("RFC822.PEEK"), "Unknown fetch attribute RFC822.PEEK");
  EXPECT_EQ(error("BINARY"), "Unknown fetch attribute BINARY");
  EXPECT_EQ(error("X-GM-LABELS"), "Unknown fetch attribute X-GM-LABELS");
  EXPECT_EQ(error(""), "Unknown fetch attribute ");
  EXPECT_EQ(error("FLAGS[]"), "Unknown fetch attribute FLAGS[]");
  EXPECT_EQ(error("BODY<0.5>"), "Unknown fetch attribute BODY<0.5>");
}

TEST(ImapFetchAttribute, BodySections) {
  FetchAttribute a = ok("BODY[]");
  EXPECT_EQ(a.kind, Kind::body_section);
  EXPECT_FALSE(a.peek);
  EXPECT_EQ(a.section, Section{});
  EXPECT_FALSE(a.partial);

  a = ok("body.peek[header]");
  EXPECT_TRUE(a.peek);
  EXPECT_EQ(a.section.text, Text::header);
  EXPECT_TRUE(a.section.part.empty());

  a = ok("BODY[TEXT]<0.2048>");
  EXPECT_EQ(a.section.text, Text::text);
  ASSERT_TRUE(a.partial);
  EXPECT_EQ(a.partial->offset, 0u);
  EXPECT_EQ(a.partial->length, 2048u);

  a = ok("BODY[1.2.3]");
  EXPECT_EQ(a.section.part, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(a.section.text, Text::none);

  a = ok("BODY[4.2.HEADER]");
  EXPECT_EQ(a.section.part, (std::vector<std::uint32_t>{4, 2}));
  EXPECT_EQ(a.section.text, Text::header);
  EXPECT_EQ(ok("BODY[3.TEXT]").section.text, Text::text);
  EXPECT_EQ(ok("BODY[3.mime]").section.text, Text::mime);

  a = ok("BODY.PEEK[HEADER.FIELDS (From To cc)]<10.20>");
  EXPECT_EQ(a.section.text, Text::header_fields);
  EXPECT_EQ(a.section.fields, (std::vector<std::string>{"FROM", "TO", "CC"}));
  EXPECT_EQ(a.partial, (Partial{10, 20}));

  a = ok("BODY[1.HEADER.FIELDS.NOT (Received)]");
  EXPECT_EQ(a.section.part, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(a.section.text, Text::header_fields_not);
  EXPECT_EQ(a.section.fields, (std::vector<std::string>{"RECEIVED"}));
  // The first "]" ends the section, so a field name cannot hold one.
  EXPECT_EQ(error("BODY[header.fields (x-a])]"), "Invalid section: header list expected");
  EXPECT_EQ(ok("BODY[4294967295]").section.part, (std::vector<std::uint32_t>{4294967295u}));
}

TEST(ImapFetchAttribute, BadSections) {
  EXPECT_EQ(error("BODY[MIME]"), "Invalid section: MIME needs a part number");
  EXPECT_EQ(error("BODY[0]"), "Invalid section: Invalid section part number: 0");
  EXPECT_EQ(error("BODY[1.0]"), "Invalid section: Invalid section part number: 0");
  EXPECT_EQ(error("BODY[01]"), "Invalid section: Invalid section part number: 01");
  EXPECT_EQ(error("BODY[4294967296]"),
            "Invalid section: section part number too large: 4294967296");
  EXPECT_EQ(error("BODY[1.]"), "Invalid section: ends in \".\"");
  EXPECT_EQ(error("BODY[1..2]"), "Invalid section: unknown section text .2");
  EXPECT_EQ(error("BODY[.1]"), "Invalid section: unknown section text .1");
  EXPECT_EQ(error("BODY[1x]"), "Invalid section: Invalid section part number: 1x");
  EXPECT_EQ(error("BODY[FOO]"), "Invalid section: unknown section text FOO");
  EXPECT_EQ(error("BODY[HEADER.FIELDS]"), "Invalid section: HEADER.FIELDS needs a header list");
  EXPECT_EQ(error("BODY[HEADER.FIELDS ()]"), "Invalid section: header list expected");
  EXPECT_EQ(error("BODY[HEADER.FIELDS (A  B)]"), "Invalid section: empty header field name");
  EXPECT_EQ(error("BODY[HEADER.FIELDS (A )]"), "Invalid section: empty header field name");
  EXPECT_EQ(error("BODY[HEADER.FIELDS A]"), "Invalid section: header list expected");
  EXPECT_EQ(error("BODY[HEADER.FIELDS (A) x]"), "Invalid section: header list expected");
  EXPECT_EQ(error("BODY[HEADER.FIELDS (A%)]"), "Invalid section: bad header field name A%");
  EXPECT_EQ(error("BODY[HEADER x]"), "Invalid section: unexpected text after HEADER");
  EXPECT_EQ(error("BODY[TEXT"), "Missing ] in fetch attribute BODY[TEXT");
  EXPECT_EQ(error("BODY[TEXT]x"), "Invalid partial x");
  EXPECT_EQ(error("BODY[]<>"), "Invalid partial <>");
  EXPECT_EQ(error("BODY[]<0>"), "Invalid partial <0>");
  EXPECT_EQ(error("BODY[]<0.0>"), "Invalid partial length: must be a non-zero number");
  EXPECT_EQ(error("BODY[]<0.01>"), "Invalid partial length: must be a non-zero number");
  EXPECT_EQ(error("BODY[]<.5>"), "Missing partial offset");
  EXPECT_EQ(error("BODY[]<5.>"), "Missing partial length");
  EXPECT_EQ(error("BODY[]<a.5>"), "Invalid partial offset: a");
  EXPECT_EQ(error("BODY[]<1.5>x"), "Invalid partial <1.5>x");
  EXPECT_EQ(error("BODY[]<99999999999999999999.5>"),
            "partial offset too large: 99999999999999999999");
}

TEST(ImapFetchAttribute, PartialsAreClampedTo32Bits) {
  EXPECT_EQ(ok("BODY[]<4294967296.9223372036854775807>").partial,
            (Partial{4294967295u, 4294967295u}));
  EXPECT_EQ(ok("BODY[]<007.1>").partial, (Partial{7, 1}));
}

TEST(ImapFetchAttribute, Binary) {
  FetchAttribute a = ok("BINARY[]");
  EXPECT_EQ(a.kind, Kind::binary);
  EXPECT_FALSE(a.peek);
  a = ok("binary.peek[1.2]<0.1>");
  EXPECT_EQ(a.kind, Kind::binary);
  EXPECT_TRUE(a.peek);
  EXPECT_EQ(a.section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(a.partial, (Partial{0, 1}));
  a = ok("BINARY.SIZE[3]");
  EXPECT_EQ(a.kind, Kind::binary_size);
  EXPECT_EQ(a.section.part, (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(ok("BINARY.SIZE[]").kind, Kind::binary_size);
  EXPECT_EQ(error("BINARY[HEADER]"), "Invalid section: BINARY takes part numbers only");
  EXPECT_EQ(error("BINARY[1.MIME]"), "Invalid section: BINARY takes part numbers only");
  EXPECT_EQ(error("BINARY.SIZE[1]<0.5>"), "BINARY.SIZE takes no partial: BINARY.SIZE[1]<0.5>");
  EXPECT_EQ(error("BINARY.SIZE.PEEK[1]"), "Unknown fetch attribute BINARY.SIZE.PEEK[1]");
  EXPECT_EQ(error("BINARY.PEEK.SIZE[1]"), "Unknown fetch attribute BINARY.PEEK.SIZE[1]");
}

TEST(ImapFetchAttribute, ListsAndDuplicates) {
  Value list;
  list.kind = Value::Kind::list;
  for (const char* item : {"UID", "BODY[1]", "uid", "BODY[1]<0.5>", "BODY.PEEK[1]", "BODY[1]",
                           "BODY[HEADER.FIELDS (A)]", "BODY[HEADER.FIELDS (a)]",
                           "BODY[1.HEADER.FIELDS (2.3.)]", "BODY[1.2.HEADER.FIELDS (3.)]"}) {
    Value value;
    value.text = item;
    list.items.push_back(value);
  }
  auto attributes = parse_fetch_attributes(list);
  ASSERT_TRUE(attributes);
  ASSERT_EQ(attributes->size(), 7u);
  EXPECT_EQ((*attributes)[0].kind, Kind::uid);
  EXPECT_EQ((*attributes)[1].section.part, (std::vector<std::uint32_t>{1}));
  EXPECT_TRUE((*attributes)[2].partial);
  EXPECT_TRUE((*attributes)[3].peek);
  EXPECT_EQ((*attributes)[4].section.fields, (std::vector<std::string>{"A"}));
  EXPECT_EQ((*attributes)[5].section.part, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ((*attributes)[6].section.part, (std::vector<std::uint32_t>{1, 2}));
}

}  // namespace
}  // namespace postamt::proto::imap
