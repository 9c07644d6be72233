#include "queue/outbound_envelope.hpp"

#include <gtest/gtest.h>

#include "queue/attempt_outcome.hpp"
#include "queue/delivery_notices.hpp"

namespace postamt::queue {
namespace {

storage::QueueMessage queued_message() {
  storage::QueueMessage m;
  m.id = 7;
  m.sender = "alice@example.test";
  m.envid = "env-1";
  m.ret = "HDRS";
  storage::QueueRecipient r;
  r.id = 70;
  r.address = "bob@remote.test";
  r.notify = "SUCCESS,FAILURE";
  r.orcpt = "rfc822;Bob@Remote.test";
  m.recipients.push_back(r);
  return m;
}

TEST(ContentNeeds, SeparatesHeaderAndBody) {
  EXPECT_FALSE(content_needs("Subject: hi\r\n\r\nplain\r\n").eight_bit_body);
  const auto body = content_needs("Subject: hi\r\n\r\ncaf\xc3\xa9\r\n");
  EXPECT_TRUE(body.eight_bit_body);
  EXPECT_FALSE(body.utf8_headers);
  const auto header = content_needs("Subject: caf\xc3\xa9\r\n\r\nplain\r\n");
  EXPECT_TRUE(header.utf8_headers);
  EXPECT_FALSE(header.eight_bit_body);
}

TEST(OutboundMessage, CarriesTheStoredDsnParameters) {
  const auto out = outbound_message(queued_message(), 1234, ContentNeeds{});
  EXPECT_EQ(out.sender, "alice@example.test");
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_TRUE(out.recipients[0].notify.success);
  EXPECT_TRUE(out.recipients[0].notify.failure);
  EXPECT_FALSE(out.recipients[0].notify.delay);
  ASSERT_TRUE(out.recipients[0].orcpt);
  EXPECT_EQ(out.recipients[0].orcpt->address_type, "rfc822");
  EXPECT_EQ(out.recipients[0].orcpt->address, "Bob@Remote.test");
  EXPECT_EQ(out.size, 1234u);
  EXPECT_EQ(out.ret, proto::smtp::DsnRet::headers);
  EXPECT_EQ(out.envid, "env-1");
  EXPECT_EQ(out.body, proto::smtp::BodyType::unspecified);
  EXPECT_FALSE(out.smtputf8);
}

TEST(OutboundMessage, EightBitContentAndUtf8AddressesAskForExtensions) {
  auto message = queued_message();
  message.recipients[0].address = "jos\xc3\xa9@remote.test";
  EXPECT_TRUE(needs_smtputf8_envelope(message));
  const auto out = outbound_message(message, 10, ContentNeeds{true, false});
  EXPECT_EQ(out.body, proto::smtp::BodyType::eight_bit_mime);
  EXPECT_TRUE(out.smtputf8);
}

TEST(AttemptOutcome, RepliesMapToVerdictsAndStatus) {
  EXPECT_EQ(verdict_of_code(250), Verdict::delivered);
  EXPECT_EQ(verdict_of_code(451), Verdict::temporary);
  EXPECT_EQ(verdict_of_code(550), Verdict::permanent);
  EXPECT_EQ(verdict_of_code(0), Verdict::temporary);
  EXPECT_EQ(status_of_reply(550, "5.1.1"), "5.1.1");
  EXPECT_EQ(status_of_reply(554, ""), "5.0.0");
  EXPECT_EQ(status_of_reply(421, ""), "4.0.0");
}

TEST(NoticeWanted, FollowsNotify) {
  storage::QueueRecipient r;
  EXPECT_TRUE(notice_wanted(r, NoticeAction::failed)) << "RFC 3461 §4.1: failures by default";
  EXPECT_FALSE(notice_wanted(r, NoticeAction::relayed));
  r.notify = "NEVER";
  EXPECT_FALSE(notice_wanted(r, NoticeAction::failed));
  r.notify = "SUCCESS";
  EXPECT_FALSE(notice_wanted(r, NoticeAction::failed));
  EXPECT_TRUE(notice_wanted(r, NoticeAction::relayed));
  r.notify = "FAILURE,DELAY";
  EXPECT_TRUE(notice_wanted(r, NoticeAction::failed));
}

}  // namespace
}  // namespace postamt::queue

namespace postamt::queue {
namespace {

TEST(LocalTracePrefix, SkipsOnlyTheLeadingReturnPathWeWrote) {
  const std::string stored = "Return-Path: <a@example.test>\r\nReceived: x\r\n\r\nbody\r\n";
  EXPECT_EQ(stored.substr(local_trace_prefix(stored)), "Received: x\r\n\r\nbody\r\n");
  EXPECT_EQ(local_trace_prefix("Received: x\r\nReturn-Path: <a@b>\r\n\r\n"), 0u);
  EXPECT_EQ(local_trace_prefix("Return-Path: <a@b>\r\n folded\r\n\r\n"), 0u);
  EXPECT_EQ(local_trace_prefix("Return-Path: <a@b>"), 0u);
}

}  // namespace
}  // namespace postamt::queue
