#include "proto/line_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postamt::proto {
namespace {

// Collects every result the buffer can give right now: a line's text, or "<too_long>".
std::vector<std::string> drain(LineBuffer& buffer) {
  std::vector<std::string> out;
  while (auto line = buffer.next_line()) {
    out.push_back(*line ? std::string((*line)->text) : "<too_long>");
  }
  return out;
}

TEST(LineBuffer, SplitsCrlfLines) {
  LineBuffer buffer(512);
  buffer.feed("EHLO a\r\nMAIL FROM:<x@y>\r\npart");
  EXPECT_EQ(drain(buffer), (std::vector<std::string>{"EHLO a", "MAIL FROM:<x@y>"}));
  EXPECT_EQ(buffer.buffered(), 4u);
  buffer.feed("ial\r\n");
  EXPECT_EQ(drain(buffer), (std::vector<std::string>{"partial"}));
}

TEST(LineBuffer, SameResultWhenFedByteByByte) {
  const std::string input = "A\r\nBB\r\n\r\nCCC\n";
  LineBuffer whole(64);
  whole.feed(input);
  auto expected = drain(whole);
  LineBuffer split(64);
  std::vector<std::string> got;
  for (char c : input) {
    split.feed(std::string_view(&c, 1));
    for (auto& line : drain(split)) got.push_back(line);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got, (std::vector<std::string>{"A", "BB", "", "CCC"}));
}

TEST(LineBuffer, FlagsBareLf) {
  LineBuffer buffer(64);
  buffer.feed("one\ntwo\r\n");
  auto first = buffer.next_line();
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE((*first)->bare_lf);
  auto second = buffer.next_line();
  ASSERT_TRUE(second && *second);
  EXPECT_FALSE((*second)->bare_lf);
}

TEST(LineBuffer, LimitCountsTheLineEnd) {
  LineBuffer buffer(8);
  buffer.feed("123456\r\n");  // exactly 8 octets with CRLF
  EXPECT_EQ(drain(buffer), (std::vector<std::string>{"123456"}));
  buffer.feed("1234567\r\n");  // 9 octets
  EXPECT_EQ(drain(buffer), (std::vector<std::string>{"<too_long>"}));
}

TEST(LineBuffer, OverlongLineIsDroppedWithoutBuffering) {
  LineBuffer buffer(512);
  buffer.feed("OK\r\n");
  const std::string chunk(16 * 1024, 'x');
  std::vector<std::string> results = drain(buffer);
  for (int i = 0; i < 1000; ++i) {  // 16 MiB without a line end
    buffer.feed(chunk);
    for (auto& r : drain(buffer)) results.push_back(r);
    ASSERT_LE(buffer.buffered(), 512u + chunk.size());
  }
  EXPECT_TRUE(buffer.discarding());
  buffer.feed("tail\r\nNEXT\r\n");
  for (auto& r : drain(buffer)) results.push_back(r);
  EXPECT_EQ(results, (std::vector<std::string>{"OK", "<too_long>", "NEXT"}));
}

TEST(LineBuffer, OverlongLineEndingInSameChunkKeepsOrder) {
  LineBuffer buffer(16);
  buffer.feed("a\r\n" + std::string(40, 'y') + "\r\nb\r\n");
  EXPECT_EQ(drain(buffer), (std::vector<std::string>{"a", "<too_long>", "b"}));
}

TEST(LineBuffer, KeepsHeadAndTailOfTheDroppedLine) {
  const std::string line = "t1 CMD " + std::string(200, 'y') + " end{5+}";
  const std::string head = line.substr(0, LineBuffer::kDroppedHeadSize);
  const std::string tail = line.substr(line.size() - LineBuffer::kDroppedTailSize);
  {  // the whole line in one piece
    LineBuffer buffer(64);
    buffer.feed(line + "\r\nnext\r\n");
    EXPECT_EQ(drain(buffer), (std::vector<std::string>{"<too_long>", "next"}));
    EXPECT_EQ(buffer.dropped_head(), head);
    EXPECT_EQ(buffer.dropped_tail(), tail);
  }
  {  // octet by octet: discarded as it arrives
    LineBuffer buffer(64);
    std::vector<std::string> results;
    for (char c : line + "\r\nnext\r\n") {
      buffer.feed(std::string(1, c));
      for (auto& r : drain(buffer)) results.push_back(r);
    }
    EXPECT_EQ(results, (std::vector<std::string>{"<too_long>", "next"}));
    EXPECT_EQ(buffer.dropped_head(), head);
    EXPECT_EQ(buffer.dropped_tail(), tail);
  }
}

TEST(LineBuffer, TakeReturnsRawBytesAcrossLines) {
  LineBuffer buffer(64);
  buffer.feed("{5}\r\nab\r\ncNEXT\r\n");
  EXPECT_EQ(drain(buffer).front(), "{5}");  // drains everything; re-feed for take
  LineBuffer literal(64);
  literal.feed("{5}\r\nab\r\ncNEXT\r\n");
  auto head = literal.next_line();
  ASSERT_TRUE(head && *head);
  EXPECT_EQ(literal.take(5), "ab\r\nc");
  EXPECT_EQ(drain(literal), (std::vector<std::string>{"NEXT"}));
  EXPECT_EQ(literal.take(10), "");
}

TEST(LineBuffer, DiscardBufferedDropsPipelinedCommands) {
  LineBuffer buffer(64);
  buffer.feed("STARTTLS\r\nMAIL FROM:<evil@x>\r\n");
  auto first = buffer.next_line();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->text, "STARTTLS");
  buffer.discard_buffered();
  EXPECT_EQ(buffer.buffered(), 0u);
  EXPECT_FALSE(buffer.next_line().has_value());
}

}  // namespace
}  // namespace postamt::proto
