#pragma once
// The calendar date a message's Date: field states (RFC 5322 §3.3), for SEARCH SENTBEFORE,
// SENTON and SENTSINCE, which compare it "disregarding time and timezone" (RFC 9051
// §6.4.4): "Mon, 31 Dec 2023 23:30:00 -0500" is 31 Dec 2023, although that instant is
// already 1 Jan 2024 in UTC.
#include <optional>
#include <string_view>

#include "proto/imap/commands.hpp"

namespace postamt::imap {

// The day (days since 1970-01-01) a Date: value writes, obsolete forms included, or
// nothing when it does not parse.
std::optional<proto::imap::DayNumber> written_date(std::string_view raw_date_value);

// The written date of the first Date: field of the header at the start of `content`.
std::optional<proto::imap::DayNumber> sent_date(std::string_view content);

}  // namespace postamt::imap
