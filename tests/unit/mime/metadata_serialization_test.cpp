// MessageMetadata::serialize() / deserialize(): the messages.mime_metadata column.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mime/analyze_message.hpp"
#include "mime/tlv_codec.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

MessageMetadata sample() {
  return analyze_message(
      test::crlf("Date: Thu, 13 Oct 2016 11:39:48 +0000\n"
                 "From: A <a@example.org>\n"
                 "To: b@example.org\n"
                 "Cc: c@example.org\n"
                 "Subject: =?utf-8?q?caf=C3=A9?=\n"
                 "Content-Type: multipart/mixed; boundary=b\n"
                 "\n"
                 "--b\n"
                 "Content-Type: text/plain; charset=UTF-8\n"
                 "\n"
                 "x\n"
                 "--b\n"
                 "Content-Type: message/rfc822\n"
                 "\n"
                 "Subject: inner\n"
                 "\n"
                 "y\n"
                 "--b--\n"));
}

TEST(MimeSerialization, RoundTrip) {
  const MessageMetadata m = sample();
  EXPECT_EQ(m.date, 1476358788);
  EXPECT_EQ(m.subject, "caf\xC3\xA9");
  EXPECT_EQ(m.to, "b@example.org");
  EXPECT_EQ(m.cc, "c@example.org");
  const std::string bytes = m.serialize();
  EXPECT_TRUE(bytes.starts_with("pm\x01"));
  const auto back = MessageMetadata::deserialize(bytes);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->serialize(), bytes);

  MessageMetadata negative_date = m;
  negative_date.date = -2208988800;  // 1900
  EXPECT_EQ(MessageMetadata::deserialize(negative_date.serialize())->date, -2208988800);
  MessageMetadata no_date = m;
  no_date.date.reset();
  EXPECT_FALSE(MessageMetadata::deserialize(no_date.serialize())->date.has_value());
}

TEST(MimeSerialization, GarbageFailsCleanly) {
  for (std::string_view garbage :
       {std::string_view(""), std::string_view("p"), std::string_view("pm"),
        std::string_view("pm\x01"), std::string_view("{\"json\": true}"),
        std::string_view("pm\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 14)}) {
    EXPECT_FALSE(MessageMetadata::deserialize(garbage).has_value());
  }
  const std::string bytes = sample().serialize();
  std::string future = bytes;
  future[2] = 2;
  const auto unsupported = MessageMetadata::deserialize(future);
  ASSERT_FALSE(unsupported.has_value());
  EXPECT_NE(unsupported.error().find("version"), std::string::npos);
}

// Every prefix and many random corruptions either fail or give metadata whose offsets
// still keep their invariants; nothing crashes (the fuzz target does this at scale).
TEST(MimeSerialization, TruncationAndCorruption) {
  const std::string bytes = sample().serialize();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const auto parsed = MessageMetadata::deserialize(std::string_view(bytes).substr(0, n));
    if (parsed) test::expect_offsets_valid(*parsed);
  }
  std::mt19937 random(1234);
  for (int round = 0; round < 2000; ++round) {
    std::string corrupt = bytes;
    for (int flips = 0; flips < 3; ++flips) {
      corrupt[random() % corrupt.size()] = static_cast<char>(random() & 0xff);
    }
    const auto parsed = MessageMetadata::deserialize(corrupt);
    if (parsed) {
      for (const PartInfo& p : parsed->parts) {
        EXPECT_LE(p.header_begin, p.header_end);
        EXPECT_LE(p.header_end, p.body_end);
        EXPECT_LE(p.body_end, parsed->size);
      }
    }
  }
}

TEST(MimeSerialization, UnknownFieldsAreSkipped) {
  std::string bytes = sample().serialize();
  TlvWriter extra;
  extra.bytes(99, "from a newer writer");
  bytes += extra.data();
  const auto parsed = MessageMetadata::deserialize(bytes);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(*parsed, sample());
}

TEST(MimeSerialization, InconsistentOffsetsAreRejected) {
  MessageMetadata m = sample();
  m.parts[1].header_end = m.parts[1].body_end + 1;
  EXPECT_FALSE(MessageMetadata::deserialize(m.serialize()).has_value());
  m = sample();
  m.parts.back().body_end = m.size + 1;
  EXPECT_FALSE(MessageMetadata::deserialize(m.serialize()).has_value());
  m = sample();
  m.parts[0].section = "1";
  EXPECT_FALSE(MessageMetadata::deserialize(m.serialize()).has_value());
  m = sample();
  m.parts[1].section = "01";
  EXPECT_FALSE(MessageMetadata::deserialize(m.serialize()).has_value());
  m = sample();
  m.parts.clear();
  EXPECT_FALSE(MessageMetadata::deserialize(m.serialize()).has_value());
}

TEST(MimeSerialization, IsCompact) {
  const std::string raw = test::load_vector("torture-test.eml");
  const MessageMetadata m = analyze_message(raw);
  const std::size_t text = m.envelope.size() + m.bodystructure.size() + m.body.size();
  // The IMAP strings dominate; parts cost a few dozen bytes each.
  EXPECT_LT(m.serialize().size(), text + 45 * 48);
}

}  // namespace
}  // namespace postamt::mime
