#pragma once
// TransferDeadline: how long an SMTP client may take to send what it started (issue 13
// §2, slow clients). The idle timeout alone lets a client that trickles one byte before
// each timeout hold a connection for ever; here
//   * a command line must be complete within command_timeout of its first octet, and
//   * a message's data (DATA, or a BDAT transaction from its first chunk) must end
//     within data_timeout, and may take at most command_timeout plus one second per
//     data_min_rate octets received so far: octets buy time, a trickle buys none.
// Pure: the session feeds it times and sizes and sets the connection's read deadline
// from deadline().
#include <chrono>
#include <cstdint>
#include <optional>

namespace postamt::smtp {

class TransferDeadline {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Kind { command, data };
  struct Deadline {
    Clock::time_point at;
    Kind kind;
  };

  TransferDeadline(std::chrono::seconds command_timeout, std::chrono::seconds data_timeout,
                   std::uint64_t data_min_rate)
      : command_timeout_(command_timeout), data_timeout_(data_timeout), data_min_rate_(data_min_rate) {}

  // After the engine took what it could: whether part of a command line waits.
  void command_input(bool partial, Clock::time_point now);
  void data_started(Clock::time_point now);
  void data_received(std::uint64_t octets) { data_octets_ += octets; }
  void data_ended();

  // When the client must have finished what it is sending; nothing while it is between
  // commands (the idle timeout applies then).
  std::optional<Deadline> deadline() const;

 private:
  std::chrono::seconds command_timeout_;
  std::chrono::seconds data_timeout_;
  std::uint64_t data_min_rate_;
  std::optional<Clock::time_point> line_started_;
  std::optional<Clock::time_point> data_started_;
  std::uint64_t data_octets_ = 0;
};

}  // namespace postamt::smtp
