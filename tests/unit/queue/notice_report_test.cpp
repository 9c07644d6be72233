#include "queue/notice_report.hpp"

#include <gtest/gtest.h>

#include "queue/delivery_notices.hpp"

namespace postamt::queue {
namespace {

constexpr std::string_view kOriginal =
    "From: someone@sender.test\r\nTo: alias@example.test\r\nSubject: hello\r\n\r\n"
    "THE-SECRET-BODY-LINE\r\n";

storage::QueueRecipient recipient(std::string address, std::string orcpt) {
  storage::QueueRecipient r;
  r.id = 7;
  r.message_id = 3;
  r.address = std::move(address);
  r.orcpt = std::move(orcpt);
  return r;
}

std::string notice_for(const storage::QueueRecipient& queued, std::string ret) {
  storage::QueueMessage message;
  message.id = 3;
  message.sender = "someone@sender.test";
  message.ret = std::move(ret);
  message.recipients = {queued};
  NoticeEntry entry;
  entry.recipient = queued;
  entry.outcome.verdict = Verdict::permanent;
  entry.outcome.status = "5.1.1";
  entry.outcome.diagnostic = "550 5.1.1 no such user";
  entry.outcome.remote_host = "mx.far.test";
  entry.outcome.remote_reply = true;
  const std::vector<NoticeEntry> entries = {entry};
  return compose_notice(NoticeInput{"mail.example.test", message, entries, kOriginal, 10 * 1024 * 1024, 1700000000});
}

TEST(ArrivedThroughForwarding, WhenTheOrcptNamesAnotherAddress) {
  EXPECT_TRUE(arrived_through_forwarding(recipient("friend@far.test", "rfc822;alias@example.test")));
  EXPECT_TRUE(arrived_through_forwarding(recipient("friend@far.test", "RFC822;a+2Bb@example.test")));
  EXPECT_FALSE(arrived_through_forwarding(recipient("friend@far.test", "")));
  EXPECT_FALSE(arrived_through_forwarding(recipient("friend@far.test", "rfc822;Friend@Far.test")));
  EXPECT_FALSE(arrived_through_forwarding(recipient("a+b@far.test", "rfc822;a+2Bb@far.test")));
}

TEST(ComposeNotice, ReturnsTheWholeMessageForMailSentStraightOut) {
  const std::string notice = notice_for(recipient("friend@far.test", ""), "FULL");
  EXPECT_NE(notice.find("message/rfc822"), std::string::npos);
  EXPECT_NE(notice.find("THE-SECRET-BODY-LINE"), std::string::npos);
}

TEST(ComposeNotice, ReturnsOnlyTheHeaderOfForwardedMailEvenWithRetFull) {
  for (const char* ret : {"FULL", ""}) {
    const std::string notice = notice_for(recipient("friend@far.test", "rfc822;alias@example.test"), ret);
    EXPECT_NE(notice.find("text/rfc822-headers"), std::string::npos) << ret;
    EXPECT_NE(notice.find("Subject: hello"), std::string::npos) << ret;
    EXPECT_EQ(notice.find("THE-SECRET-BODY-LINE"), std::string::npos) << ret;
    EXPECT_NE(notice.find("forwarded"), std::string::npos) << ret;
  }
}

}  // namespace
}  // namespace postamt::queue
