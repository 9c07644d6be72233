#pragma once
// Creates a self-signed certificate (ECDSA P-256, SAN = hostname) for first starts and
// quickstart, until the operator configures a real one.
#include <filesystem>
#include <string>

#include "base/result.hpp"

namespace postamt::net {

// Writes cert_path and key_path (key mode 0600) atomically; parent directories created.
Result<void> write_self_signed_certificate(const std::filesystem::path& cert_path,
                                           const std::filesystem::path& key_path,
                                           const std::string& hostname, int valid_days = 825);

}  // namespace postamt::net
