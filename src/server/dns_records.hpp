#pragma once
// The DNS records a mail domain publishes for Postamt, as zone-file lines: MX, SPF, one
// TXT per DKIM selector (active and retiring keys, from the key store), DMARC. Printed
// by `postamt dns records DOMAIN` and by quickstart.
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace postamt::server {

inline constexpr std::uint32_t kRecordTtl = 3600;

// Every record for `domain`, one zone-file line each, newline-terminated. `hostname` is
// the MX (server.hostname). Fails when the key store cannot be read.
Result<std::string> dns_records_text(const std::filesystem::path& data_dir, const std::string& hostname,
                                     const std::string& domain);

}  // namespace postamt::server
