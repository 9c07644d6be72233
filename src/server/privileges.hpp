#pragma once
#include <filesystem>
#include <string>

#include "base/result.hpp"

namespace postamt::server {

// When running as root: hands `data_dir` (recursively) to `user`, then drops to that user
// and its primary group, with supplementary groups cleared. Not root: nothing to do.
Result<void> drop_privileges(const std::string& user, const std::filesystem::path& data_dir);

}  // namespace postamt::server
