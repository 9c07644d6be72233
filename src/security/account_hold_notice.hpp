#pragma once
// The notice a hold sends (issue 15 §6): one plain-text message to the account's owner
// and one to the postmaster, saying why sending stopped, what the limits are and how the
// hold is released. Pure: the caller supplies the date and ids and delivers the text.
#include <string>

#include "base/config.hpp"
#include "storage/api/outbound_types.hpp"

namespace postamt::security {

struct HoldNoticeInput {
  std::string hostname;    // server.hostname
  std::string from;        // the postmaster address the notice comes from
  std::string to;          // the account, or the postmaster
  bool to_postmaster = false;
  storage::AccountHold hold;
  OutboundAccountLimits limits;  // those of the held account
  const OutboundLimitsConfig* config = nullptr;
  std::string date;        // RFC 5322 date-time of now
  std::string message_id;  // without angle brackets, unique
};

// The whole message (header and body, CRLF line ends), ready to be delivered.
std::string compose_hold_notice(const HoldNoticeInput& input);

// The SMTP reply text of a refused submission: "Sending from this account is on hold: …,
// contact postmaster" (no CR or LF).
std::string hold_refusal_text(const storage::AccountHold& hold, const std::string& postmaster);

}  // namespace postamt::security
