#include "server/security_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "base/utc_time.hpp"
#include "auth/address.hpp"
#include "auth/auth_throttle.hpp"
#include "auth/throttle_state.hpp"

namespace postamt::server {
namespace fs = std::filesystem;
namespace {

std::vector<auth::LockLine> current_locks(const Config& config) {
  std::ifstream in(auth::locks_file(config.server.data_dir));
  std::stringstream text;
  text << in.rdbuf();
  std::vector<auth::LockLine> current;
  const std::int64_t now = std::time(nullptr);
  for (auto& line : auth::parse_locks(text.str())) {
    if (line.until > now) current.push_back(std::move(line));
  }
  return current;
}

std::string utc(std::int64_t unix_time) { return utc_time_text(unix_time); }

// The keys the server would lift for `target`, as `security locks` lists them.
std::vector<std::string> keys_for(const Config& config, const std::string& target) {
  auth::ThrottlePolicy policy;
  policy.ipv6_prefix = config.auth.ipv6_prefix;
  std::vector<std::string> keys = {target, auth::AuthThrottle(policy).source_key(target)};
  if (auto account = auth::normalize_address(target)) keys.push_back(*account);
  return keys;
}

}  // namespace

int security_locks(const Config& config) {
  const auto locks = current_locks(config);
  if (locks.empty()) {
    std::cout << "nothing locked or slowed\n";
    return 0;
  }
  for (const auto& line : locks) {
    std::cout << line.kind << "\t" << line.key << "\tfailures=" << line.failures;
    if (line.kind == "source") {
      std::cout << "\tlocked until " << utc(line.until) << "\n";
    } else {
      std::cout << "\tdelay=" << line.delay_ms << "ms until " << utc(line.until) << "\n";
    }
  }
  return 0;
}

int security_unlock(const Config& config, const std::string& target) {
  if (target.empty() || target.size() > 512) {
    std::cerr << "postamt: error: give an IP address, a network as `security locks` lists it, or an account\n";
    return 2;
  }
  std::vector<std::string> lifted;
  const auto keys = keys_for(config, target);
  for (const auto& line : current_locks(config)) {
    if (std::ranges::find(keys, line.key) != keys.end()) lifted.push_back(line.kind + " " + line.key);
  }
  const fs::path request = auth::unlock_request_path(config.server.data_dir, target);
  const int fd = ::open(request.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "postamt: error: cannot write " << request.string()
              << ": no running server uses this data directory (or it is not yours to write)\n";
    return 1;
  }
  ::close(fd);
  // The server polls four times a second; it deletes the request once applied.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::error_code ec;
  while (fs::exists(request, ec) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (fs::exists(request, ec)) {
    fs::remove(request, ec);
    std::cerr << "postamt: error: no running server took the request (locks live in the server's memory)\n";
    return 1;
  }
  if (lifted.empty()) {
    std::cout << "nothing was locked or slowed for " << target << "\n";
  } else {
    for (const auto& what : lifted) std::cout << "unlocked " << what << "\n";
  }
  return 0;
}

}  // namespace postamt::server
