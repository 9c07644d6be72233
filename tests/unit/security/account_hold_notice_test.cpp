// security/account_hold_notice: the notice's message and the refusal text.
#include "security/account_hold_notice.hpp"

#include <gtest/gtest.h>

namespace postamt::security {
namespace {

HoldNoticeInput input(bool to_postmaster) {
  HoldNoticeInput in;
  in.hostname = "mail.example.com";
  in.from = "postmaster@example.com";
  in.to = to_postmaster ? "postmaster@example.com" : "alice@example.com";
  in.to_postmaster = to_postmaster;
  in.hold = storage::AccountHold{"alice@example.com", "messages_per_hour", "201 messages in the last hour",
                                 1'764'590'400, 0};
  in.limits.messages_per_hour = 200;
  in.date = "Mon, 01 Dec 2025 12:00:00 +0000";
  in.message_id = "hold-1@mail.example.com";
  return in;
}

TEST(AccountHoldNotice, TheUserHearsWhyAndWhatToDo) {
  const std::string text = compose_hold_notice(input(false));
  const auto end_of_header = text.find("\r\n\r\n");
  ASSERT_NE(end_of_header, std::string::npos);
  const std::string header = text.substr(0, end_of_header + 2);
  EXPECT_NE(header.find("From: Postamt <postmaster@example.com>\r\n"), std::string::npos) << header;
  EXPECT_NE(header.find("To: <alice@example.com>\r\n"), std::string::npos);
  EXPECT_NE(header.find("Subject: Sending on hold for alice@example.com\r\n"), std::string::npos);
  EXPECT_NE(header.find("Message-ID: <hold-1@mail.example.com>\r\n"), std::string::npos);
  EXPECT_NE(header.find("Auto-Submitted: auto-generated\r\n"), std::string::npos);
  const std::string body = text.substr(end_of_header + 4);
  EXPECT_NE(body.find("messages_per_hour (201 messages in the last hour)"), std::string::npos) << body;
  EXPECT_NE(body.find("2025-12-01 12:00:00 UTC"), std::string::npos);
  EXPECT_NE(body.find("messages per hour:             200"), std::string::npos);
  EXPECT_NE(body.find("change it"), std::string::npos);
  EXPECT_EQ(text.find("\n", 0), text.find("\r\n") + 1) << "CRLF line ends";
}

TEST(AccountHoldNotice, ThePostmasterHearsHowToRelease) {
  const std::string text = compose_hold_notice(input(true));
  EXPECT_NE(text.find("Subject: Account on hold: alice@example.com"), std::string::npos);
  EXPECT_NE(text.find("postamt security release alice@example.com"), std::string::npos);
}

TEST(AccountHoldNotice, NothingFromTheHoldCanAddHeaderLines) {
  HoldNoticeInput in = input(false);
  in.hold.detail = "evil\r\nBcc: everyone@example.net";
  in.to = "alice@example.com\r\nX-Injected: 1";
  const std::string text = compose_hold_notice(in);
  EXPECT_EQ(text.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(text.find("\r\nX-Injected:"), std::string::npos);
  const std::string refusal = hold_refusal_text(in.hold, "postmaster@example.com");
  EXPECT_EQ(refusal.find('\r'), std::string::npos);
  EXPECT_EQ(refusal.find('\n'), std::string::npos);
  EXPECT_EQ(refusal.rfind("Sending from this account is on hold: messages_per_hour", 0), 0u) << refusal;
  EXPECT_NE(refusal.find("contact postmaster@example.com"), std::string::npos);
}

}  // namespace
}  // namespace postamt::security
