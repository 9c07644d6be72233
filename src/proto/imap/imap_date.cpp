#include "proto/imap/imap_date.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "proto/imap/command_arguments.hpp"

namespace postamt::proto::imap {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(int year, unsigned month) {
  constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `count` digits at the front of `text`, consumed.
std::optional<unsigned> take_digits(std::string_view& text, std::size_t count) {
  if (text.size() < count) return std::nullopt;
  unsigned value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  text.remove_prefix(count);
  return value;
}

bool take_char(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

struct CivilDate {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
};

// "-" date-month "-" date-year after the day, consumed; the day is checked against the month.
std::expected<CivilDate, std::string> take_month_year(std::string_view& text, unsigned day) {
  CivilDate date;
  if (!take_char(text, '-') || text.size() < 3) return std::unexpected("Invalid date");
  for (unsigned m = 0; m < kMonths.size(); ++m) {
    if (equals_ignoring_case(text.substr(0, 3), kMonths[m])) date.month = m + 1;
  }
  if (date.month == 0) return std::unexpected("Invalid month in date");
  text.remove_prefix(3);
  if (!take_char(text, '-')) return std::unexpected("Invalid date");
  const auto year = take_digits(text, 4);  // date-year = 4DIGIT
  if (!year) return std::unexpected("Invalid year in date");
  date.year = static_cast<int>(*year);
  if (day < 1 || day > days_in_month(date.year, date.month)) {
    return std::unexpected("Invalid day in date");
  }
  date.day = day;
  return date;
}

struct Civil {
  int year;
  unsigned month;
  unsigned day;
};

// The inverse of days_from_civil (proleptic Gregorian calendar, 400-year eras).
Civil civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;  // March = 0
  const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  const auto year = static_cast<int>(year_of_era + era * 400) + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

}  // namespace

DayNumber days_from_civil(int year, unsigned month, unsigned day) {
  // Days counted from 0000-03-01 in 400-year eras, then shifted to 1970-01-01.
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<DayNumber>(day_of_era) - 719468;
}

std::expected<DayNumber, std::string> parse_date(std::string_view text) {
  // date-day = 1*2DIGIT
  std::size_t digits = 0;
  while (digits < text.size() && digits < 3 && is_digit(text[digits])) ++digits;
  if (digits == 0 || digits > 2) return std::unexpected("Invalid day in date");
  const unsigned day = *take_digits(text, digits);
  auto date = take_month_year(text, day);
  if (!date) return std::unexpected(std::move(date.error()));
  if (!text.empty()) return std::unexpected("Invalid date");
  return days_from_civil(date->year, date->month, date->day);
}

std::expected<UnixSeconds, std::string> parse_date_time(std::string_view text) {
  // date-day-fixed = (SP DIGIT) / 2DIGIT; a single digit is accepted as well.
  const bool space = take_char(text, ' ');
  const std::size_t digits = !space && text.size() >= 2 && is_digit(text[1]) ? 2 : 1;
  const auto day = take_digits(text, digits);
  if (!day) return std::unexpected("Invalid day in date-time");
  auto date = take_month_year(text, *day);
  if (!date) return std::unexpected(date.error() + "-time");
  if (!take_char(text, ' ')) return std::unexpected("Invalid date-time");
  const auto hour = take_digits(text, 2);
  const bool colon1 = take_char(text, ':');
  const auto minute = take_digits(text, 2);
  const bool colon2 = take_char(text, ':');
  const auto second = take_digits(text, 2);
  // A leap second (60) is allowed and counts into the next minute.
  if (!hour || !minute || !second || !colon1 || !colon2 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::unexpected("Invalid time in date-time");
  }
  if (!take_char(text, ' ') || text.size() != 5 || (text[0] != '+' && text[0] != '-')) {
    return std::unexpected("Invalid zone in date-time");
  }
  const bool west = text[0] == '-';
  text.remove_prefix(1);
  const auto zone_hours = take_digits(text, 2);
  const auto zone_minutes = take_digits(text, 2);
  if (!zone_hours || !zone_minutes || *zone_hours > 23 || *zone_minutes > 59) {
    return std::unexpected("Invalid zone in date-time");
  }
  const std::int64_t offset = (*zone_hours * 60 + *zone_minutes) * 60;
  const std::int64_t local =
      static_cast<std::int64_t>(days_from_civil(date->year, date->month, date->day)) * 86400 +
      *hour * 3600 + *minute * 60 + *second;
  // Local time = UTC + offset for "+hhmm" zones (RFC 5322 §3.3).
  return west ? local + offset : local - offset;
}

std::string format_date_time(UnixSeconds seconds) {
  constexpr std::int64_t kMin = -62167219200;  // 0000-01-01 00:00:00
  constexpr std::int64_t kMax = 253402300799;  // 9999-12-31 23:59:59
  seconds = std::clamp<std::int64_t>(seconds, kMin, kMax);
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const Civil date = civil_from_days(days);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%02u-%s-%04d %02d:%02d:%02d +0000", date.day,
                std::string(kMonths[date.month - 1]).c_str(), date.year,
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  return buffer;
}

}  // namespace postamt::proto::imap
