#pragma once
// Unix seconds as UTC text for people and logs: by default the RFC 3339 form the CLI prints
// ("2026-03-02T10:14:07Z").
#include <cstdint>
#include <string>

namespace postamt {

std::string utc_time_text(std::int64_t unix_seconds, const char* strftime_format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace postamt
