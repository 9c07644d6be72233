#include "imap/message/sent_date.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "imap/message/header_field_reader.hpp"
#include "mime/ascii_case.hpp"
#include "mime/header_decoding.hpp"
#include "mime/header_fields.hpp"

namespace postamt::imap {

namespace {

// GMime must be initialised once before use; mime/header_decoding.cpp owns that, and any
// of its parsers runs the initialisation.
void ensure_gmime() {
  static const bool initialised = [] {
    (void)mime::parse_date("");
    return true;
  }();
  (void)initialised;
}

}  // namespace

std::optional<proto::imap::DayNumber> written_date(std::string_view raw_date_value) {
  ensure_gmime();
  std::string text = mime::unfold(raw_date_value.substr(0, 1024));
  std::replace(text.begin(), text.end(), '\0', ' ');
  // GMime keeps the zone the field states, so the calendar fields are the written ones.
  GDateTime* date = g_mime_utils_header_decode_date(text.c_str());
  if (date == nullptr) return std::nullopt;
  int year = 0, month = 0, day = 0;
  g_date_time_get_ymd(date, &year, &month, &day);
  g_date_time_unref(date);
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<proto::imap::DayNumber>(
      std::chrono::sys_days{ymd}.time_since_epoch().count());
}

std::optional<proto::imap::DayNumber> sent_date(std::string_view content) {
  HeaderFieldReader reader(content);
  while (auto field = reader.next()) {
    if (field->has_colon && mime::ascii_iequals(field->name, "date")) {
      return written_date(field->raw_value);
    }
  }
  return std::nullopt;
}

}  // namespace postamt::imap
