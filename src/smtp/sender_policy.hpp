#pragma once
// Who an authenticated submission client may send as (issue 13 §4, RFC 6409 §6.1 leaves
// the check to the MSA's policy): its own address, an alias that delivers to it, or any
// address in a domain smtp.send_as grants it. Used for MAIL FROM (smtp.enforce_sender)
// and for every address of the From header fields (smtp.enforce_from_header).
// Blocking (store lookups): run it on the storage pool.
#include <string>
#include <string_view>

#include "base/config.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::smtp {

// The address is owned by the account; false for anything that does not parse.
storage::StoreResult<bool> sender_owned(storage::MailStore& store, const SmtpConfig& config,
                                        std::string_view address, std::string_view account);

// RFC 5321 §4.5.1: "<Postmaster>" without a domain goes to the postmaster of the server's
// primary domain: the host name itself when it is a local domain, else the nearest parent
// of it that is one (mail.example.com -> example.com), else the first domain created.
// Empty when the server has no local domain yet.
storage::StoreResult<std::string> postmaster_address(storage::MailStore& store,
                                                     std::string_view hostname);

}  // namespace postamt::smtp
