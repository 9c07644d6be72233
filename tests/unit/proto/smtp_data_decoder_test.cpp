#include "proto/smtp/data_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postamt::proto::smtp {
namespace {

struct Result {
  std::string bytes;
  std::size_t consumed = 0;
  bool ended = false;
  std::optional<DataError> error;
};

Result decode_whole(std::string_view input, DataLimits limits = {1 << 20, 1000, false},
                    Framing framing = Framing::dot_stuffed) {
  DataDecoder decoder(framing, limits);
  auto out = decoder.decode(input);
  Result result{out.bytes, out.consumed, out.ended, decoder.error()};
  if (framing == Framing::chunked) result.bytes += decoder.finish();
  result.error = decoder.error();
  if (result.error) result.bytes.clear();
  return result;
}

Result decode_bytewise(std::string_view input, DataLimits limits = {1 << 20, 1000, false},
                       Framing framing = Framing::dot_stuffed) {
  DataDecoder decoder(framing, limits);
  Result result;
  for (std::size_t i = 0; i < input.size() && !decoder.ended(); ++i) {
    auto out = decoder.decode(input.substr(i, 1));
    result.bytes += out.bytes;
    result.consumed += out.consumed;
  }
  if (framing == Framing::chunked) result.bytes += decoder.finish();
  result.ended = decoder.ended();
  result.error = decoder.error();
  if (result.error) result.bytes.clear();
  return result;
}

bool crlf_clean(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

TEST(SmtpDataDecoder, EndsOnlyAtCrlfDotCrlf) {
  const auto r = decode_whole("line\r\n.\r\nMAIL FROM:<x@y>\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_EQ(r.bytes, "line\r\n");
  EXPECT_FALSE(r.error);
}

TEST(SmtpDataDecoder, DotAtTheVeryStartEndsAnEmptyMessage) {
  const auto r = decode_whole(".\r\nrest");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_EQ(r.bytes, "");
}

TEST(SmtpDataDecoder, SmugglingSequencesNeverEndTheData) {
  for (const std::string hidden : {"a\n.\nb", "a\r.\rb", "a\n.\r\nb", "a\r\n.\nb", "a\r.\r\nb",
                                   "a\r\n.\rb", "a\r\n.\r\rb", "a\r\n\n.\r\nb", "a\r\r\n\n.\r\nb"}) {
    for (bool normalize : {false, true}) {
      const DataLimits limits{1 << 20, 1000, normalize};
      const auto r = decode_whole(hidden + "\r\n", limits);
      EXPECT_FALSE(r.ended) << testing::PrintToString(hidden);
      EXPECT_EQ(r.consumed, hidden.size() + 2);
      if (normalize) {
        EXPECT_FALSE(r.error);
        EXPECT_TRUE(crlf_clean(r.bytes)) << testing::PrintToString(r.bytes);
      } else {
        EXPECT_EQ(r.error, DataError::bare_line_ending) << testing::PrintToString(hidden);
      }
      // The real terminator still ends it.
      const auto ended = decode_whole(hidden + "\r\n.\r\n", limits);
      EXPECT_TRUE(ended.ended);
      EXPECT_EQ(ended.consumed, hidden.size() + 5);
    }
  }
}

TEST(SmtpDataDecoder, RealCrlfAfterABareCrStillCounts) {
  // "\r\r\n.\r\n": the first CR is bare, but "\r\n.\r\n" that follows is a real end.
  const auto r = decode_whole("x\r\r\n.\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.error, DataError::bare_line_ending);
}

TEST(SmtpDataDecoder, Unstuffing) {
  EXPECT_EQ(decode_whole("..\r\n.a\r\n...b\r\na.\r\n.\r\n").bytes, ".\r\na\r\n..b\r\na.\r\n");
}

TEST(SmtpDataDecoder, NormalisesBareLineEnds) {
  const DataLimits limits{1 << 20, 1000, true};
  EXPECT_EQ(decode_whole("a\nb\rc\r\r\n.\r\n", limits).bytes, "a\r\nb\r\nc\r\n\r\n");
  // After a bare LF a line still gets unstuffed, but is not a terminator start.
  EXPECT_EQ(decode_whole("a\n..b\n.\r\n.\r\n", limits).bytes, "a\r\n.b\r\n\r\n");
}

TEST(SmtpDataDecoder, Nul) {
  const auto r = decode_whole(std::string("a\0b\r\n.\r\n", 8));
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.error, DataError::nul);
  EXPECT_EQ(r.bytes, "");
}

TEST(SmtpDataDecoder, LineLimitCountsCrlfButNotTheStuffingDot) {
  const DataLimits limits{1 << 20, 10, false};
  EXPECT_FALSE(decode_whole("12345678\r\n.12345678\r\n.\r\n", limits).error);
  EXPECT_EQ(decode_whole("123456789\r\n.\r\n", limits).error, DataError::line_too_long);
  EXPECT_EQ(decode_whole("123456789", limits).error, DataError::line_too_long);  // early
}

TEST(SmtpDataDecoder, SizeLimitIsExact) {
  EXPECT_FALSE(decode_whole("abc\r\n.\r\n", {5, 1000, false}).error);
  EXPECT_EQ(decode_whole("abc\r\n.\r\n", {4, 1000, false}).error, DataError::too_big);
  EXPECT_EQ(decode_whole("abcd\r\n.\r\n", {4, 1000, false}).error, DataError::too_big);
  EXPECT_EQ(decode_whole("\r\n.\r\n", {0, 1000, false}).error, DataError::too_big);
  EXPECT_FALSE(decode_whole(".\r\n", {0, 1000, false}).error);
}

TEST(SmtpDataDecoder, FirstErrorWins) {
  const auto r = decode_whole(std::string("a\nb\0c\r\n.\r\n", 10));
  EXPECT_EQ(r.error, DataError::bare_line_ending);
  EXPECT_TRUE(r.ended);
}

TEST(SmtpDataDecoder, SplitIndependence) {
  const std::vector<std::string> inputs = {
      "Subject: x\r\n\r\nbody\r\n..dots\r\n.\r\nafter",
      "a\n.\nb\r\n.\r\n",
      "\r\n.\r\r\n.\r\n",
      ".x\r\n.\r\n",
      std::string("nul\0\r\n.\r\n", 10),
      "long line that goes on\r\n.\r\n",
  };
  for (const auto& input : inputs) {
    for (bool normalize : {false, true}) {
      const DataLimits limits{1 << 20, 20, normalize};
      const auto whole = decode_whole(input, limits);
      const auto bytewise = decode_bytewise(input, limits);
      EXPECT_EQ(whole.bytes, bytewise.bytes) << testing::PrintToString(input);
      EXPECT_EQ(whole.consumed, bytewise.consumed);
      EXPECT_EQ(whole.ended, bytewise.ended);
      EXPECT_EQ(whole.error, bytewise.error);
    }
  }
}

TEST(SmtpDataDecoder, ErrorReasonDoesNotDependOnTheSplit) {
  // Found by fuzz_smtp_data: a run of text that overflows both the line and the size
  // limit must report the limit its first overflowing octet hits, as byte by byte does.
  for (const DataLimits limits : {DataLimits{0, 4, true}, DataLimits{3, 4, false},
                                  DataLimits{2, 4, false}, DataLimits{5, 3, false}}) {
    const std::string input = "./" + std::string(15, 'x') + "\n";
    EXPECT_EQ(decode_whole(input, limits).error, decode_bytewise(input, limits).error);
  }
  EXPECT_EQ(decode_whole("abc", {0, 4, false}).error, DataError::too_big);
  EXPECT_EQ(decode_whole("abc", {5, 4, false}).error, DataError::line_too_long);
  EXPECT_EQ(decode_whole("abc", {2, 4, false}).error, DataError::line_too_long);  // tie
}

TEST(SmtpDataDecoder, ChunkedFramingKeepsDotsAndHasNoTerminator) {
  const auto r = decode_whole("..a\r\n.\r\nb", {1 << 20, 1000, false}, Framing::chunked);
  EXPECT_FALSE(r.ended);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_EQ(r.bytes, "..a\r\n.\r\nb");
}

TEST(SmtpDataDecoder, ChunkedTrailingCrIsBare) {
  EXPECT_EQ(decode_whole("a\r", {1 << 20, 1000, false}, Framing::chunked).error,
            DataError::bare_line_ending);
  EXPECT_EQ(decode_whole("a\r", {1 << 20, 1000, true}, Framing::chunked).bytes, "a\r\n");
  EXPECT_EQ(decode_bytewise("a\r\nb\r", {1 << 20, 1000, true}, Framing::chunked).bytes,
            "a\r\nb\r\n");
}

}  // namespace
}  // namespace postamt::proto::smtp
