#include "base/utc_time.hpp"

#include <ctime>

namespace postamt {

std::string utc_time_text(std::int64_t unix_seconds, const char* strftime_format) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  return std::string(text, std::strftime(text, sizeof text, strftime_format, &tm));
}

}  // namespace postamt
