#include "net/connection_tracker.hpp"

#include <vector>

#include "net/connection.hpp"

namespace postamt::net {

void ConnectionTracker::add(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  connections_[connection->info().session_id] = connection;
}

void ConnectionTracker::remove(std::uint64_t session_id) {
  std::lock_guard lock(mutex_);
  connections_.erase(session_id);
}

std::size_t ConnectionTracker::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void ConnectionTracker::request_shutdown_all() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, weak] : connections_) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  for (auto& connection : live) connection->request_shutdown();
}

}  // namespace postamt::net
