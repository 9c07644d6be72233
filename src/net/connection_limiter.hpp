#pragma once
// Caps connections in total and per client IP, across every listener and I/O thread.
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace postamt::net {

class ConnectionLimiter {
 public:
  ConnectionLimiter(unsigned max_total, unsigned max_per_ip);

  // Holds one connection's place; releases it when destroyed.
  class Slot {
   public:
    Slot(ConnectionLimiter* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
    Slot(Slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), ip_(std::move(other.ip_)) {}
    Slot& operator=(Slot&&) = delete;
    Slot(const Slot&) = delete;
    ~Slot() {
      if (owner_) owner_->release(ip_);
    }

   private:
    ConnectionLimiter* owner_;
    std::string ip_;
  };

  enum class Refusal { total, per_ip };
  struct Decision {
    std::optional<Slot> slot;
    Refusal refusal = Refusal::total;  // meaningful when slot is empty
  };
  Decision try_acquire(const std::string& ip);

  std::size_t total() const;
  std::size_t count_for(const std::string& ip) const;

 private:
  void release(const std::string& ip);

  const unsigned max_total_;
  const unsigned max_per_ip_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, unsigned> per_ip_;  // only IPs with live connections
};

}  // namespace postamt::net
