// IMAP strings in FETCH answers (RFC 9051 §4.3, literal8 RFC 3516 §4.2).
#include <gtest/gtest.h>

#include <string>

#include "imap/message/response_string.hpp"

namespace postamt::imap {
namespace {

std::string as_string(std::string_view data) {
  std::string out;
  append_string(out, data);
  return out;
}

std::string as_binary(std::string_view data) {
  std::string out;
  append_binary_string(out, data);
  return out;
}

std::string as_astring(std::string_view data) {
  std::string out;
  append_astring(out, data);
  return out;
}

TEST(ResponseString, QuotedWhenShortAnd7BitText) {
  EXPECT_EQ(as_string(""), "\"\"");
  EXPECT_EQ(as_string("hello world"), "\"hello world\"");
  EXPECT_EQ(as_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(as_string("tab\there"), "\"tab\there\"");
}

TEST(ResponseString, LiteralOtherwise) {
  EXPECT_EQ(as_string("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(as_string("lf\n"), "{3}\r\nlf\n");
  EXPECT_EQ(as_string("K\xC3\xB6ln"), "{5}\r\nK\xC3\xB6ln");
  const std::string long_text(kMaxQuotedLength + 1, 'x');
  EXPECT_EQ(as_string(long_text), "{257}\r\n" + long_text);
  const std::string longest(kMaxQuotedLength, 'x');
  EXPECT_EQ(as_string(longest), "\"" + longest + "\"");
  // A NUL can be neither quoted nor sent in a literal (RFC 9051 §9 CHAR8): it goes as
  // 0x80, keeping the length.
  EXPECT_EQ(as_string(std::string("a\0b", 3)), std::string("{3}\r\na\x80" "b", 8));
}

TEST(ResponseString, Literal8OnlyForNul) {
  EXPECT_EQ(as_binary(std::string("a\0b", 3)), std::string("~{3}\r\na\0b", 9));
  EXPECT_EQ(as_binary("\xFF\xFE"), "{2}\r\n\xFF\xFE");
  EXPECT_EQ(as_binary("plain"), "\"plain\"");
  EXPECT_EQ(as_binary(""), "\"\"");
}

TEST(ResponseString, AstringIsAnAtomWhenItCanBe) {
  EXPECT_EQ(as_astring("SUBJECT"), "SUBJECT");
  EXPECT_EQ(as_astring("X-Spam-Score"), "X-Spam-Score");
  EXPECT_EQ(as_astring("A]B"), "\"A]B\"");
  EXPECT_EQ(as_astring("A(B"), "\"A(B\"");
  EXPECT_EQ(as_astring(""), "\"\"");
}

}  // namespace
}  // namespace postamt::imap
