#include "security/account_hold_notice.hpp"

#include <fmt/format.h>

#include <ctime>

#include "base/utc_time.hpp"

namespace postamt::security {
namespace {

// Header and body text come from addresses and our own words; a CR or LF in them would
// start a new field, so controls become spaces.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string utc(storage::UnixTime when) { return utc_time_text(when, "%Y-%m-%d %H:%M:%S UTC"); }

}  // namespace

std::string hold_refusal_text(const storage::AccountHold& hold, const std::string& postmaster) {
  return one_line(fmt::format("Sending from this account is on hold: {} ({}), contact {}", hold.reason,
                              hold.detail, postmaster));
}

std::string compose_hold_notice(const HoldNoticeInput& input) {
  const auto& hold = input.hold;
  const std::string account = one_line(hold.account);
  std::string body;
  if (input.to_postmaster) {
    body += fmt::format("Postamt on {} has put the account {} on hold.\r\n\r\n", one_line(input.hostname), account);
  } else {
    body += fmt::format("Sending from your account {} has been put on hold by the mail server {}.\r\n\r\n", account,
                        one_line(input.hostname));
  }
  body += fmt::format("Why:   {} ({})\r\n", one_line(hold.reason), one_line(hold.detail));
  body += fmt::format("Since: {}\r\n\r\n", utc(hold.held_at));
  body +=
      "This happens when an account sends far more than usual, which is what a stolen\r\n"
      "password usually leads to. While the hold lasts, mail waiting in the outgoing queue\r\n"
      "stays there (nothing is lost and nothing more is sent), and new messages are\r\n"
      "refused with a temporary error. Receiving mail is not affected.\r\n\r\n";
  body += "The limits of this account:\r\n";
  body += fmt::format("  messages per hour:             {}\r\n", input.limits.messages_per_hour);
  body += fmt::format("  messages per day:              {}\r\n", input.limits.messages_per_day);
  body += fmt::format("  recipients per day:            {}\r\n", input.limits.recipients_per_day);
  body += fmt::format("  first-time recipients per day: {}\r\n", input.limits.new_recipients_per_day);
  if (input.config != nullptr) {
    const auto& c = *input.config;
    if (c.burst_factor > 0)
      body += fmt::format("  burst: more than {} times the usual busy hour (at least {} messages)\r\n", c.burst_factor,
                          c.burst_floor);
    if (c.bounce_percent > 0)
      body += fmt::format("  bounces: {}% of recipients in a day, once {} bounced\r\n", c.bounce_percent, c.bounce_min);
    if (c.login_networks > 0)
      body += fmt::format("  logins: from more than {} networks within {} minutes\r\n", c.login_networks,
                          c.login_window.count() / 60);
  }
  body += "\r\n";
  if (input.to_postmaster) {
    body += fmt::format(
        "What to do: check with the owner that the sending was theirs. If the password may\r\n"
        "have leaked, change it first (postamt user passwd {}). Look at the held mail with\r\n"
        "`postamt queue list`; delete what is spam (postamt queue delete ID). Then lift the\r\n"
        "hold, and the waiting mail goes out:\r\n\r\n"
        "    postamt security release {}\r\n",
        account, account);
  } else {
    body += fmt::format(
        "What to do: if you did not send this mail yourself, your password may be known to\r\n"
        "someone else; change it. Then ask your postmaster ({}) to release the hold.\r\n"
        "Mail you sent before the hold goes out once it is released.\r\n",
        one_line(input.from));
  }
  std::string message;
  message += fmt::format("From: Postamt <{}>\r\n", one_line(input.from));
  message += fmt::format("To: <{}>\r\n", one_line(input.to));
  message += fmt::format("Subject: {} {}\r\n", input.to_postmaster ? "Account on hold:" : "Sending on hold for", account);
  message += fmt::format("Date: {}\r\n", one_line(input.date));
  message += fmt::format("Message-ID: <{}>\r\n", one_line(input.message_id));
  message += "Auto-Submitted: auto-generated\r\n";  // RFC 3834 §5: no automatic replies
  message += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
  message += body;
  return message;
}

}  // namespace postamt::security
