#include "proto/smtp/address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postamt::proto::smtp {
namespace {

std::string forward(std::string_view text) {
  auto path = parse_path(text, PathKind::forward);
  if (!path) return path.error() == PathError::too_long ? "<too_long>" : "<syntax>";
  return path->mailbox;
}

std::string reverse(std::string_view text) {
  auto path = parse_path(text, PathKind::reverse);
  if (!path) return path.error() == PathError::too_long ? "<too_long>" : "<syntax>";
  return path->mailbox;
}

TEST(SmtpAddress, PlainMailboxes) {
  EXPECT_EQ(forward("<user@example.com>"), "user@example.com");
  EXPECT_EQ(forward("<First.Last+tag@Sub.Example.COM>"), "First.Last+tag@sub.example.com");
  EXPECT_EQ(forward("<!#$%&'*+-/=?^_`{|}~@x.example>"), "!#$%&'*+-/=?^_`{|}~@x.example");
  EXPECT_EQ(forward("<a@x>"), "a@x");
  EXPECT_EQ(forward("<a@1-2.example>"), "a@1-2.example");
}

TEST(SmtpAddress, LengthIsReportedForWhatFollows) {
  auto path = parse_path("<a@b.example> SIZE=1", PathKind::reverse);
  ASSERT_TRUE(path);
  EXPECT_EQ(path->length, 13u);
}

TEST(SmtpAddress, NullPathOnlyForTheSender) {
  EXPECT_EQ(reverse("<>"), "");
  EXPECT_EQ(forward("<>"), "<syntax>");
}

TEST(SmtpAddress, Postmaster) {
  EXPECT_EQ(forward("<Postmaster>"), "postmaster");
  EXPECT_EQ(forward("<POSTMASTER>"), "postmaster");
  EXPECT_EQ(reverse("<Postmaster>"), "<syntax>");
  EXPECT_EQ(forward("<postmaster@Example.com>"), "postmaster@example.com");
}

TEST(SmtpAddress, SourceRoutesAreDropped) {
  EXPECT_EQ(forward("<@a.example:u@c.example>"), "u@c.example");
  EXPECT_EQ(forward("<@a.example,@b.example:u@c.example>"), "u@c.example");
  EXPECT_EQ(forward("<@a.example u@c.example>"), "<syntax>");
  EXPECT_EQ(forward("<@a.example,b.example:u@c.example>"), "<syntax>");
  EXPECT_EQ(forward("<@:u@c.example>"), "<syntax>");
}

TEST(SmtpAddress, QuotedLocalParts) {
  EXPECT_EQ(forward("<\"john\"@x.example>"), "john@x.example");
  EXPECT_EQ(forward("<\"john.smith\"@x.example>"), "john.smith@x.example");
  EXPECT_EQ(forward("<\"john doe\"@x.example>"), "\"john doe\"@x.example");
  EXPECT_EQ(forward("<\"a\\b\"@x.example>"), "ab@x.example");  // needless quoted-pair
  EXPECT_EQ(forward("<\"a\\\\b\"@x.example>"), "\"a\\\\b\"@x.example");
  EXPECT_EQ(forward("<\"a@b\"@x.example>"), "\"a@b\"@x.example");
  EXPECT_EQ(forward("<\"\"@x.example>"), "\"\"@x.example");
  EXPECT_EQ(forward("<\"a..b\"@x.example>"), "\"a..b\"@x.example");
  EXPECT_EQ(forward("<\"unterminated@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<\"tab\there\"@x.example>"), "<syntax>");
}

TEST(SmtpAddress, DotStringRules) {
  EXPECT_EQ(forward("<.a@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<a.@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<a..b@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<a b@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<a(b)@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<@x.example>"), "<syntax>");
  EXPECT_EQ(forward("<a@>"), "<syntax>");
  EXPECT_EQ(forward("<a>"), "<syntax>");
  EXPECT_EQ(forward("a@x.example"), "<syntax>");
  EXPECT_EQ(forward("<a@x.example"), "<syntax>");
}

TEST(SmtpAddress, DomainRules) {
  EXPECT_EQ(forward("<a@-x.example>"), "<syntax>");
  EXPECT_EQ(forward("<a@x-.example>"), "<syntax>");
  EXPECT_EQ(forward("<a@x..example>"), "<syntax>");
  EXPECT_EQ(forward("<a@x.example.>"), "<syntax>");
  EXPECT_EQ(forward("<a@x_y.example>"), "<syntax>");
  EXPECT_EQ(forward("<a@" + std::string(63, 'l') + ".example>"), "a@" + std::string(63, 'l') + ".example");
  EXPECT_EQ(forward("<a@" + std::string(64, 'l') + ".example>"), "<syntax>");
}

TEST(SmtpAddress, AddressLiterals) {
  EXPECT_EQ(forward("<a@[192.0.2.1]>"), "a@[192.0.2.1]");
  EXPECT_EQ(forward("<a@[255.255.255.255]>"), "a@[255.255.255.255]");
  EXPECT_EQ(forward("<a@[256.0.0.1]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[1.2.3]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[1.2.3.4.5]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[1234.2.3.4]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[IPv6:2001:DB8:0:0:0:0:0:1]>"), "a@[IPv6:2001:db8:0:0:0:0:0:1]");
  EXPECT_EQ(forward("<a@[ipv6:2001:db8::1]>"), "a@[IPv6:2001:db8::1]");
  EXPECT_EQ(forward("<a@[IPv6:::1]>"), "a@[IPv6:::1]");
  EXPECT_EQ(forward("<a@[IPv6::]>"), "<syntax>");  // a lone ":" is no address
  EXPECT_EQ(forward("<a@[IPv6:::ffff:192.0.2.1]>"), "a@[IPv6:::ffff:192.0.2.1]");
  EXPECT_EQ(forward("<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>"), "a@[IPv6:1:2:3:4:5:6:192.0.2.1]");
  EXPECT_EQ(forward("<a@[IPv6:1:2:3:4:5:6:7]>"), "<syntax>");          // 7 groups, no "::"
  EXPECT_EQ(forward("<a@[IPv6:1:2:3:4:5:6:7::]>"), "<syntax>");        // "::" for one group
  EXPECT_EQ(forward("<a@[IPv6:1::2::3]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[IPv6:12345::1]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[IPv6:1::g]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[x-tag:anything]>"), "<syntax>");
  EXPECT_EQ(forward("<a@[192.0.2.1>"), "<syntax>");
}

TEST(SmtpAddress, Utf8IsAcceptedAndFlagged) {
  auto path = parse_path("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", PathKind::forward);
  ASSERT_TRUE(path);
  EXPECT_TRUE(path->non_ascii);
  EXPECT_EQ(path->mailbox, "j\xc3\xb6rg@b\xc3\xbc" "cher.example");
  auto ascii = parse_path("<a@b.example>", PathKind::forward);
  ASSERT_TRUE(ascii);
  EXPECT_FALSE(ascii->non_ascii);
  EXPECT_EQ(forward("<\"\xe2\x82\xac uro\"@x.example>"), "\"\xe2\x82\xac uro\"@x.example");
}

TEST(SmtpAddress, MalformedUtf8IsASyntaxError) {
  EXPECT_EQ(forward("<a\xc3@x.example>"), "<syntax>");          // truncated
  EXPECT_EQ(forward("<a\xc0\x80@x.example>"), "<syntax>");      // overlong NUL
  EXPECT_EQ(forward("<a\xed\xa0\x80@x.example>"), "<syntax>");  // surrogate
  EXPECT_EQ(forward("<a\xf4\x90\x80\x80@x.example>"), "<syntax>");  // above U+10FFFF
  EXPECT_EQ(forward("<a@x\xff.example>"), "<syntax>");
}

TEST(SmtpAddress, PathLengthLimit) {
  // 256 octets including the angle brackets (RFC 5321 §4.5.3.1.3).
  const std::string domain = "@x.example";  // 10 octets
  const std::string fits = "<" + std::string(244, 'a') + domain + ">";
  ASSERT_EQ(fits.size(), 256u);
  EXPECT_EQ(forward(fits), std::string(244, 'a') + domain);
  EXPECT_EQ(forward("<" + std::string(245, 'a') + domain + ">"), "<too_long>");
}

TEST(SmtpAddress, ParseMailbox) {
  EXPECT_EQ(parse_mailbox("User@Example.com").value(), "User@example.com");
  EXPECT_FALSE(parse_mailbox("<User@Example.com>"));
  EXPECT_FALSE(parse_mailbox("User@Example.com trailing"));
  EXPECT_FALSE(parse_mailbox(""));
}

}  // namespace
}  // namespace postamt::proto::smtp
