#pragma once
// Production set-up done once by `quickstart` (never at every start): the system user the
// server runs as, the ownership of what it must write or read, and a systemd unit that
// starts it as that user with nothing but CAP_NET_BIND_SERVICE.
#include <filesystem>
#include <string>

#include "base/result.hpp"

namespace postamt::server {

struct ServiceAccount {
  std::string name;
  unsigned uid = 0;
  unsigned gid = 0;
  bool created = false;  // made now by useradd --system
};

// Looks the user up, creating it as a system user (no login shell, home = data_dir) when
// it does not exist. Needs root to create.
Result<ServiceAccount> ensure_service_account(const std::string& name, const std::filesystem::path& home);

// Hands `path` (not following a link) to the account; for directories made at set-up.
Result<void> hand_over(const std::filesystem::path& path, const ServiceAccount& account);

// The unit file text: runs `binary serve --config config` as the account from the start.
std::string systemd_unit_text(const std::filesystem::path& binary, const std::filesystem::path& config,
                              const std::filesystem::path& writable_dir, const ServiceAccount& account);

}  // namespace postamt::server
