#include "server/ports_file.hpp"

#include <nlohmann/json.hpp>

#include "base/atomic_file.hpp"

namespace postamt::server {

Result<void> write_ports_file(const std::filesystem::path& path,
                              const std::map<std::string, std::vector<std::string>>& bound) {
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [protocol, addresses] : bound) document[protocol] = addresses;
  return write_file_atomically(path, document.dump() + "\n", 0644);
}

}  // namespace postamt::server
