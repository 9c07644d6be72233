#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace postamt::server {

// {"smtp": ["127.0.0.1:40213"], ...}, written atomically once every listener is bound.
Result<void> write_ports_file(const std::filesystem::path& path,
                              const std::map<std::string, std::vector<std::string>>& bound);

}  // namespace postamt::server
