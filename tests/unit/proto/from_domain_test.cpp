// The RFC5322.From domain and the "Composition Kills" cases that have none.
#include <gtest/gtest.h>

#include "proto/mailauth/from_domain.hpp"

namespace postamt::mailauth {
namespace {

AuthorDomain head(std::string_view block) { return classify_from_header_block(block); }

TEST(FromDomain, OneMailboxGivesItsDomainInLowerCase) {
  const auto a = head("Subject: hi\r\nFrom: Alice <alice@Mail.Example.COM>\r\nTo: b@c.example\r\n\r\nbody");
  ASSERT_TRUE(a.ok()) << to_string(a.status);
  EXPECT_EQ(a.domain, "mail.example.com");
  EXPECT_EQ(classify_from_value(" bob@example.org").domain, "example.org");
  EXPECT_EQ(classify_from_value(" bob@example.org.").domain, "example.org");
}

TEST(FromDomain, DisplayNamesCommentsAndQuotingAreRead) {
  EXPECT_EQ(classify_from_value(" \"admin@bank.example\" <attacker@evil.example>").domain, "evil.example");
  EXPECT_EQ(classify_from_value(" (bank.example) attacker@evil.example (admin@bank.example)").domain, "evil.example");
  EXPECT_EQ(classify_from_value(" \"Q, Person\" <q@example.net>").domain, "example.net");
  EXPECT_EQ(classify_from_value(" John Q. Public <jqp@example.net>").domain, "example.net");
  EXPECT_EQ(classify_from_value(" \"odd@local\"@example.net").domain, "example.net");
  EXPECT_EQ(classify_from_value(" <@route.example:user@example.net>").domain, "example.net");
  EXPECT_EQ(classify_from_value(" =?utf-8?q?B=C3=A4nk?= <x@example.net>").domain, "example.net");
  EXPECT_EQ(classify_from_value("\r\n\tAlice\r\n <alice@folded.example>").domain, "folded.example");
  EXPECT_EQ(classify_from_value(" Jörg <j@bücher.example>").domain, "bücher.example");
}

TEST(FromDomain, NoFromField) {
  EXPECT_EQ(head("Subject: x\r\n\r\nFrom: a@b.example\r\n").status, FromStatus::no_from_field);
  EXPECT_EQ(head("").status, FromStatus::no_from_field);
}

TEST(FromDomain, SeveralFromFieldsInAnySpelling) {
  EXPECT_EQ(head("From: a@bank.example\r\nFrom: b@evil.example\r\n\r\n").status, FromStatus::several_from_fields);
  EXPECT_EQ(head("From: a@bank.example\r\nFROM: a@bank.example\r\n\r\n").status, FromStatus::several_from_fields);
  // obs-optional: "From :" is a From field too.
  EXPECT_EQ(head("From : a@bank.example\r\nFrom: b@evil.example\r\n\r\n").status, FromStatus::several_from_fields);
  EXPECT_EQ(head("From: a@bank.example\nfrom:b@evil.example\n\n").status, FromStatus::several_from_fields);
}

TEST(FromDomain, SeveralMailboxes) {
  EXPECT_EQ(classify_from_value(" a@bank.example, b@evil.example").status, FromStatus::several_mailboxes);
  EXPECT_EQ(classify_from_value(" a@bank.example, a@bank.example").status, FromStatus::several_mailboxes);
  EXPECT_EQ(classify_from_value(" A <a@bank.example>, <b@evil.example>").status, FromStatus::several_mailboxes);
}

TEST(FromDomain, MissingMailboxOrDomain) {
  EXPECT_EQ(classify_from_value("").status, FromStatus::no_mailbox);
  EXPECT_EQ(classify_from_value("   (just a comment)").status, FromStatus::no_mailbox);
  EXPECT_EQ(classify_from_value(" undisclosed-senders:;").status, FromStatus::no_mailbox);
  EXPECT_EQ(classify_from_value(" , ,").status, FromStatus::no_mailbox);
  EXPECT_EQ(classify_from_value(" alice").status, FromStatus::no_domain);
  EXPECT_EQ(classify_from_value(" Alice <alice>").status, FromStatus::no_domain);
  EXPECT_EQ(classify_from_value(" alice@[192.0.2.1]").status, FromStatus::no_domain);
  EXPECT_EQ(classify_from_value(" a@b..example").status, FromStatus::unparseable);
}

TEST(FromDomain, AmbiguousSyntaxIsUnparseable) {
  EXPECT_EQ(classify_from_value(" a@bank.example <b@evil.example>").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" <a@bank.example> <b@evil.example>").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" <a@bank.example> b@evil.example").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" \"unterminated <a@bank.example>").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" (unterminated a@bank.example").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" <a@bank.example").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" <<a@bank.example>>").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" a@bank.example\\@evil.example").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(" group: a@bank.example;").status, FromStatus::unparseable);
  EXPECT_EQ(classify_from_value(std::string_view(" a@bank.example\0b@evil.example", 31)).status,
            FromStatus::unparseable);
}

TEST(FromDomain, DomainsDnsCannotHoldHaveNoDomain) {
  EXPECT_EQ(classify_from_value(" a@ex!ample.com").status, FromStatus::no_domain);
  EXPECT_EQ(classify_from_value(" a@=?utf-8?q?x?=.example").status, FromStatus::no_domain);
  EXPECT_TRUE(classify_from_value(" a@mail_1-x.example").ok());
}

TEST(FromDomain, LabelLimits) {
  EXPECT_EQ(classify_from_value(" a@" + std::string(64, 'x') + ".example").status, FromStatus::no_domain);
  EXPECT_TRUE(classify_from_value(" a@" + std::string(63, 'x') + ".example").ok());
}

TEST(HeaderFields, SplitKeepsOffsetsAndFolding) {
  const std::string block = "A: 1\r\nB: two\r\n\tlines\r\nC:3\r\n\r\nbody: no";
  const auto fields = split_header_fields(block);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[1].name, "B");
  EXPECT_EQ(fields[1].value, " two\r\n\tlines");
  EXPECT_EQ(block.substr(fields[1].offset, fields[1].length), "B: two\r\n\tlines\r\n");
  EXPECT_EQ(fields[2].value, "3");
}

}  // namespace
}  // namespace postamt::mailauth
