#pragma once
// Dates written into generated messages: RFC 5322 §3.3 date-time, always in UTC.
// (delivery/trace_headers has its own copy from before this one existed; mime cannot
// depend on delivery, so this is the one for the mime module.)
#include <cstdint>
#include <string>

namespace postamt::mime {

// "Fri, 27 Nov 2026 05:30:00 +0000" for a Unix time. Years are clamped to 1970..9999,
// the range RFC 5322's four-digit year and every reader handle.
std::string format_rfc5322_date(std::int64_t unix_time);

}  // namespace postamt::mime
