#pragma once
// IMAP dates (RFC 9051 §9):
//   date      = date-text / DQUOTE date-text DQUOTE       (SEARCH BEFORE/ON/SINCE ...)
//   date-text = date-day "-" date-month "-" date-year     date-day = 1*2DIGIT
//   date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
//   date-day-fixed = (SP DIGIT) / 2DIGIT                  (APPEND, INTERNALDATE)
//   time = 2DIGIT ":" 2DIGIT ":" 2DIGIT                   zone = ("+" / "-") 4DIGIT
// Month names are case-insensitive (ABNF strings). The texts given here are without the
// DQUOTEs (the tokenizer removed them). Errors are reasons for "tag BAD <reason>".
#include <expected>
#include <string>
#include <string_view>

#include "proto/imap/commands.hpp"

namespace postamt::proto::imap {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12); no validation.
DayNumber days_from_civil(int year, unsigned month, unsigned day);

// "1-Feb-1994" / "01-Feb-1994": the day number.
std::expected<DayNumber, std::string> parse_date(std::string_view text);

// "17-Jul-1996 02:44:25 -0700" (also " 7-Jul-..." and "7-Jul-..."): Unix seconds, UTC.
std::expected<UnixSeconds, std::string> parse_date_time(std::string_view text);

// The date-time of Unix seconds in UTC, as INTERNALDATE shows it: "17-Jul-1996 09:44:25
// +0000" (without the DQUOTEs). Years outside 0..9999 are clamped to that range's ends.
std::string format_date_time(UnixSeconds seconds);

}  // namespace postamt::proto::imap
