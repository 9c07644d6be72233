// IMAP string output (RFC 9051 §4.3).
#include "mime/imap_string.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postamt::mime {
namespace {

std::string imap(std::string_view s) {
  std::string out;
  append_imap_string(out, s);
  return out;
}

TEST(MimeImapString, QuotedWhenSevenBitText) {
  EXPECT_EQ(imap(""), "\"\"");
  EXPECT_EQ(imap("plain text\twith tab"), "\"plain text\twith tab\"");
  EXPECT_EQ(imap("say \"hi\" C:\\"), "\"say \\\"hi\\\" C:\\\\\"");
}

TEST(MimeImapString, LiteralOtherwise) {
  EXPECT_EQ(imap("caf\xC3\xA9"), "{5}\r\ncaf\xC3\xA9");
  EXPECT_EQ(imap("two\r\nlines"), "{10}\r\ntwo\r\nlines");
  EXPECT_EQ(imap("bare\rcr"), "{7}\r\nbare\rcr");
  EXPECT_EQ(imap(std::string("a\0b", 3)),
            "{5}\r\na\xEF\xBF\xBD"
            "b");
}

TEST(MimeImapString, NString) {
  std::string out;
  append_imap_nstring(out, std::nullopt);
  append_imap_nstring(out, std::string("x"));
  EXPECT_EQ(out, "NIL\"x\"");
}

}  // namespace
}  // namespace postamt::mime
