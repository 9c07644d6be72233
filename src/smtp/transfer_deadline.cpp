#include "smtp/transfer_deadline.hpp"

#include <algorithm>

namespace postamt::smtp {

void TransferDeadline::command_input(bool partial, Clock::time_point now) {
  if (!partial) {
    line_started_.reset();
  } else if (!line_started_) {
    line_started_ = now;
  }
}

void TransferDeadline::data_started(Clock::time_point now) {
  data_started_ = now;
  data_octets_ = 0;
  line_started_.reset();
}

void TransferDeadline::data_ended() {
  data_started_.reset();
  data_octets_ = 0;
}

std::optional<TransferDeadline::Deadline> TransferDeadline::deadline() const {
  if (data_started_) {
    const auto bought = data_min_rate_ == 0 ? data_timeout_
                                            : std::chrono::seconds(data_octets_ / data_min_rate_);
    const auto allowed = std::min(data_timeout_, command_timeout_ + bought);
    return Deadline{*data_started_ + allowed, Kind::data};
  }
  if (line_started_) return Deadline{*line_started_ + command_timeout_, Kind::command};
  return std::nullopt;
}

}  // namespace postamt::smtp
