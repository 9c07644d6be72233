#include "proto/line_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace postamt::proto {

LineBuffer::LineBuffer(std::size_t max_line_length) : max_line_length_(max_line_length) {}

void LineBuffer::compact() {
  if (start_ == 0) return;
  buffer_.erase(0, start_);
  start_ = 0;
}

void LineBuffer::feed(std::string_view data) {
  while (!data.empty()) {
    if (discarding_) {
      const char* lf = static_cast<const char*>(std::memchr(data.data(), '\n', data.size()));
      if (!lf) return;  // the whole piece belongs to the over-long line
      discarding_ = false;
      overflow_pending_ = true;
      data.remove_prefix(static_cast<std::size_t>(lf - data.data()) + 1);
      continue;
    }
    if (start_ > 0 && start_ >= buffer_.size() / 2) compact();
    buffer_.append(data.data(), data.size());
    return;
  }
}

std::optional<std::expected<Line, LineError>> LineBuffer::next_line() {
  // Lines before the over-long one were all handed out before discarding began, so the
  // error comes next, before any line that followed it.
  if (overflow_pending_) {
    overflow_pending_ = false;
    return std::unexpected(LineError::too_long);
  }
  const std::size_t available = buffer_.size() - start_;
  const char* base = buffer_.data() + start_;
  const void* found = std::memchr(base + scanned_, '\n', available - scanned_);
  if (!found) {
    scanned_ = available;
    // The limit counts the line's content plus its line end, so a line still open at
    // the limit can only end over it.
    if (available >= max_line_length_) {
      buffer_.erase(start_);
      scanned_ = 0;
      discarding_ = true;
    }
    return std::nullopt;
  }
  const std::size_t length = static_cast<std::size_t>(static_cast<const char*>(found) - base);
  scanned_ = 0;
  start_ += length + 1;
  if (length + 1 > max_line_length_) return std::unexpected(LineError::too_long);
  Line line;
  line.text = std::string_view(base, length);
  if (!line.text.empty() && line.text.back() == '\r') {
    line.text.remove_suffix(1);
  } else {
    line.bare_lf = true;
  }
  return line;
}

std::string LineBuffer::take(std::size_t n) {
  const std::size_t count = std::min(n, buffered());
  std::string out(buffer_.data() + start_, count);
  start_ += count;
  scanned_ = 0;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return out;
}

void LineBuffer::discard_buffered() {
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  discarding_ = false;
  overflow_pending_ = false;
}

}  // namespace postamt::proto
