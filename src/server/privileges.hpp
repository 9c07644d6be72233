#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace postamt::server {

// When running as root: hands `data_dir` (recursively) to `user`, makes each of
// `reread_files` (the TLS pair, re-read on SIGHUP) group-readable by the user's group
// when the user could not read it, then drops to that user and its primary group with
// supplementary groups cleared. Not root: nothing to do.
Result<void> drop_privileges(const std::string& user, const std::filesystem::path& data_dir,
                             const std::vector<std::filesystem::path>& reread_files);

}  // namespace postamt::server
