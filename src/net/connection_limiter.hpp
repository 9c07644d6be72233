#pragma once
// Caps connections in total and per client IP, across every listener and I/O thread.
// Connections that have not authenticated (yet) have smaller caps of their own, so idle
// or trickling strangers from a hundred addresses cannot take every place (issue 13 §2):
// a connection counts as unauthenticated from accept until its session calls
// Slot::mark_authenticated() (IMAP/POP3 login, SMTP AUTH).
#include <cstddef>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace postamt::net {

class ConnectionLimiter {
 public:
  static constexpr unsigned kUnlimited = std::numeric_limits<unsigned>::max();

  ConnectionLimiter(unsigned max_total, unsigned max_per_ip,
                    unsigned max_unauthenticated = kUnlimited,
                    unsigned max_unauthenticated_per_ip = kUnlimited);

  // Holds one connection's place; releases it when destroyed.
  class Slot {
   public:
    Slot(ConnectionLimiter* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
    Slot(Slot&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          ip_(std::move(other.ip_)),
          authenticated_(other.authenticated_) {}
    Slot& operator=(Slot&&) = delete;
    Slot(const Slot&) = delete;
    ~Slot() {
      if (owner_) owner_->release(ip_, authenticated_);
    }
    // The session logged in: the place no longer counts against the unauthenticated caps.
    void mark_authenticated() {
      if (owner_ && !authenticated_) owner_->authenticate(ip_);
      authenticated_ = true;
    }

   private:
    ConnectionLimiter* owner_;
    std::string ip_;
    bool authenticated_ = false;
  };

  enum class Refusal { total, per_ip, unauthenticated, unauthenticated_per_ip };
  struct Decision {
    std::optional<Slot> slot;
    Refusal refusal = Refusal::total;  // meaningful when slot is empty
  };
  Decision try_acquire(const std::string& ip);

  std::size_t total() const;
  std::size_t count_for(const std::string& ip) const;
  std::size_t unauthenticated_total() const;

 private:
  struct Counts {
    unsigned all = 0;
    unsigned unauthenticated = 0;
  };
  void release(const std::string& ip, bool authenticated);
  void authenticate(const std::string& ip);

  const unsigned max_total_;
  const unsigned max_per_ip_;
  const unsigned max_unauthenticated_;
  const unsigned max_unauthenticated_per_ip_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::size_t unauthenticated_ = 0;
  std::unordered_map<std::string, Counts> per_ip_;  // only IPs with live connections
};

std::string_view refusal_name(ConnectionLimiter::Refusal refusal);

}  // namespace postamt::net
