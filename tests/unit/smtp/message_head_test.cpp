// What the SMTP session reads from the kept head of a message (smtp/message_head).
#include "smtp/message_head.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postamt::smtp {
namespace {

using Addresses = std::vector<std::string>;

TEST(MessageHead, ReadsFromFieldsReceivedAndMessageId) {
  const std::string head =
      "Received: from a by b; Fri, 27 Nov 2026 10:00:00 +0000\r\n"
      "received: from c\r\n\tby d; Fri, 27 Nov 2026 10:00:00 +0000\r\n"
      "From: Alice <alice@example.test>, \"Bob, Jr.\" <bob@example.test>\r\n"
      "from : carol@example.test (Carol)\r\n"
      "Message-ID:\r\n <one@example.test>\r\n"
      "Message-ID: <two@example.test>\r\n"
      "Subject: From: mallory@example.test\r\n"
      "\r\n"
      "From: not-a-header@example.test\r\n";
  const MessageHead parsed = read_message_head(head, true);
  EXPECT_TRUE(parsed.complete);
  EXPECT_EQ(parsed.received_fields, 2u);
  EXPECT_EQ(parsed.from_fields, 2u);
  EXPECT_EQ(parsed.from_addresses,
            (Addresses{"alice@example.test", "bob@example.test", "carol@example.test"}));
  EXPECT_EQ(parsed.message_id, "<one@example.test>");
}

TEST(MessageHead, GroupsAndAddressesWithoutDomain) {
  const MessageHead parsed =
      read_message_head("From: Team: a@example.test, b@example.test;, local-only\r\n\r\n", true);
  EXPECT_EQ(parsed.from_addresses, (Addresses{"a@example.test", "b@example.test", "local-only@"}));
}

TEST(MessageHead, AHeaderCutByTheHeadIsIncomplete) {
  // The head ends inside the header: the cut field does not count, and the caller knows
  // it did not see the whole header.
  const MessageHead cut = read_message_head("From: a@example.test\r\nFrom: b@exa", false);
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(cut.from_addresses, (Addresses{"a@example.test"}));
  // A whole message of header fields only ends with its last field.
  const MessageHead whole = read_message_head("Subject: x\r\nFrom: b@example.test\r\n", true);
  EXPECT_TRUE(whole.complete);
  EXPECT_EQ(whole.from_addresses, (Addresses{"b@example.test"}));
  // ...also when it ends without a line end (BDAT does not add one).
  EXPECT_EQ(read_message_head("From: c@example.test", true).from_addresses, (Addresses{"c@example.test"}));
  // A message with no From has no author to check.
  const MessageHead none = read_message_head("Subject: x\r\n\r\nbody\r\n", true);
  EXPECT_TRUE(none.complete);
  EXPECT_EQ(none.from_fields, 0u);
}

}  // namespace
}  // namespace postamt::smtp
