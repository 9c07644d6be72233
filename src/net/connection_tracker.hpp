#pragma once
// Knows every live connection so that a drain (SIGTERM) can ask each to finish.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace postamt::net {

class Connection;

class ConnectionTracker {
 public:
  void add(const std::shared_ptr<Connection>& connection);
  void remove(std::uint64_t session_id);
  std::size_t size() const;
  // Calls request_shutdown() on every live connection.
  void request_shutdown_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
};

}  // namespace postamt::net
