// Address lists as ENVELOPE address structures (RFC 5322 §3.4, RFC 9051 §7.5.2).
#include "mime/address_list.hpp"

#include <gtest/gtest.h>

namespace postamt::mime {
namespace {

using Addresses = std::vector<EnvelopeAddress>;

}  // namespace

void PrintTo(const EnvelopeAddress& a, std::ostream* os) {
  const auto show = [os](const std::optional<std::string>& v) {
    *os << (v ? "\"" + *v + "\"" : std::string("NIL"));
  };
  *os << "(";
  show(a.name);
  *os << " ";
  show(a.adl);
  *os << " ";
  show(a.mailbox);
  *os << " ";
  show(a.host);
  *os << ")";
}

namespace {

EnvelopeAddress mailbox(std::optional<std::string> name, std::string local, std::string host,
                        std::optional<std::string> adl = std::nullopt) {
  return EnvelopeAddress{std::move(name), std::move(adl), std::move(local), std::move(host)};
}

TEST(MimeAddressList, NameAddrAndAddrSpec) {
  EXPECT_EQ(parse_address_list("John Doe <jdoe@example.org>, mary@example.net"),
            (Addresses{mailbox("John Doe", "jdoe", "example.org"),
                       mailbox(std::nullopt, "mary", "example.net")}));
}

TEST(MimeAddressList, PhraseSpacingIsNormalised) {
  // obs-phrase keeps its dots; runs of white space become one space.
  EXPECT_EQ(parse_address_list("John   Q. Public <jqp@example.org>"),
            (Addresses{mailbox("John Q. Public", "jqp", "example.org")}));
  EXPECT_EQ(parse_address_list("\"Doe, J\"   <j@x.org>"),
            (Addresses{mailbox("Doe, J", "j", "x.org")}));
  EXPECT_EQ(parse_address_list("<bare@x.org>"),
            (Addresses{mailbox(std::nullopt, "bare", "x.org")}));
}

TEST(MimeAddressList, CommentsAndCfws) {
  // RFC 822 style: the comment after an addr-spec is the only name given.
  EXPECT_EQ(parse_address_list("nsb@thumper.bellcore.com (Nathaniel Borenstein)"),
            (Addresses{mailbox("Nathaniel Borenstein", "nsb", "thumper.bellcore.com")}));
  // Comments anywhere else are dropped (RFC 5322 §3.2.2).
  EXPECT_EQ(parse_address_list("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
            (Addresses{mailbox("Pete", "pete", "silly.test")}));
  EXPECT_EQ(parse_address_list("john . doe @ example . org"),
            (Addresses{mailbox(std::nullopt, "john.doe", "example.org")}));
}

TEST(MimeAddressList, QuotedLocalPartAndDomainLiteral) {
  EXPECT_EQ(parse_address_list("\"john doe\"@example.org, user@[192.0.2.1]"),
            (Addresses{mailbox(std::nullopt, "john doe", "example.org"),
                       mailbox(std::nullopt, "user", "[192.0.2.1]")}));
}

TEST(MimeAddressList, ObsoleteRoute) {
  EXPECT_EQ(
      parse_address_list("Routed <@relay1.example,@relay2.example:user@example.org>"),
      (Addresses{mailbox("Routed", "user", "example.org", "@relay1.example,@relay2.example")}));
}

TEST(MimeAddressList, BrokenAddresses) {
  EXPECT_EQ(parse_address_list("just-a-name"),
            (Addresses{mailbox(std::nullopt, "just-a-name", std::string(kMissingDomain))}));
  EXPECT_EQ(
      parse_address_list("Name <>"),
      (Addresses{mailbox("Name", std::string(kMissingMailbox), std::string(kMissingDomain))}));
  EXPECT_EQ(parse_address_list("<>"), Addresses{});
  EXPECT_EQ(parse_address_list(",,, ,"), Addresses{});
  EXPECT_EQ(parse_address_list("a@b.c, >>> ;; <<<, d@e.f"),
            (Addresses{mailbox(std::nullopt, "a", "b.c"), mailbox(std::nullopt, "d", "e.f")}));
  // Unterminated quotes, comments and angle brackets end with the field.
  EXPECT_EQ(parse_address_list("\"open quote <x@y>"),
            (Addresses{mailbox(std::nullopt, "open quote <x@y>", std::string(kMissingDomain))}));
  EXPECT_EQ(parse_address_list("Name <x@y.org"), (Addresses{mailbox("Name", "x", "y.org")}));
  EXPECT_EQ(parse_address_list("x@y.org (open comment"),
            (Addresses{mailbox("open comment", "x", "y.org")}));
  // NUL is junk (the rest of that address is skipped), not the end of the field.
  EXPECT_EQ(parse_address_list(std::string("a\0b@c.d, e@f.g", 15)),
            (Addresses{mailbox(std::nullopt, "a", std::string(kMissingDomain)),
                       mailbox(std::nullopt, "e", "f.g")}));
}

TEST(MimeAddressList, GroupsNestedOnlyOnce) {
  const Addresses parsed = parse_address_list("g1: a@x.org, g2: b@y.org; c@z.org");
  // RFC 5322 groups do not nest; the second ':' inside a group is junk.
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), (EnvelopeAddress{std::nullopt, std::nullopt, "g1", std::nullopt}));
  EXPECT_EQ(parsed.back(), mailbox(std::nullopt, "c", "z.org"));
}

TEST(MimeAddressList, SearchRendering) {
  EXPECT_EQ(format_address_list_for_search(
                "=?utf-8?q?J=C3=BCrgen?= <j@example.de>, plain@example.org,\r\n"
                " Team: a@x.org, \"B\" <b@y.org>;, x@y.org (Comment Name)"),
            "J\xC3\xBCrgen <j@example.de>, plain@example.org, Team: a@x.org, B <b@y.org>;, "
            "Comment Name <x@y.org>");
  EXPECT_EQ(format_address_list_for_search("undisclosed-recipients:;"), "undisclosed-recipients:;");
  EXPECT_EQ(format_address_list_for_search(""), "");
}

// GMime's address parser recurses per group and overflows the stack on this; ours must
// not (regression for the reason GMime's parser is not used here).
TEST(MimeAddressList, ManyGroupsDoNotRecurse) {
  std::string value;
  for (int i = 0; i < 200000; ++i) value += "g: ";
  const Addresses parsed = parse_address_list(value);
  // One group; inside it "g" is an address without domain, the rest of the field junk.
  EXPECT_EQ(parsed.size(), 3u);
  EXPECT_EQ(format_address_list_for_search(value), "g: g@MISSING_DOMAIN;");
}

}  // namespace
}  // namespace postamt::mime
