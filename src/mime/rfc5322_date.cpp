#include "mime/rfc5322_date.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace postamt::mime {

std::string format_rfc5322_date(std::int64_t unix_time) {
  // 253402300799 is 9999-12-31T23:59:59Z.
  const std::int64_t clamped = std::clamp<std::int64_t>(unix_time, 0, 253402300799);
  using namespace std::chrono;
  const sys_seconds when{seconds{clamped}};
  const sys_days day = floor<days>(when);
  const year_month_day date{day};
  const weekday week_day{day};
  const hh_mm_ss time{when - day};

  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s, %u %s %04d %02d:%02d:%02d +0000",
                kDays[week_day.c_encoding()], static_cast<unsigned>(date.day()),
                kMonths[static_cast<unsigned>(date.month()) - 1], static_cast<int>(date.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

}  // namespace postamt::mime
