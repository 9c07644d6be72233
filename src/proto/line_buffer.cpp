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

// One octet more than kept while the line goes on: its CR may be the last one.
void LineBuffer::keep_tail(std::string_view more) {
  constexpr std::size_t kKeep = kDroppedTailSize + 1;
  if (more.size() >= kKeep) {
    dropped_tail_.assign(more.substr(more.size() - kKeep));
    return;
  }
  dropped_tail_ += more;
  if (dropped_tail_.size() > kKeep) dropped_tail_.erase(0, dropped_tail_.size() - kKeep);
}

void LineBuffer::end_tail() {
  if (!dropped_tail_.empty() && dropped_tail_.back() == '\r') dropped_tail_.pop_back();
  if (dropped_tail_.size() > kDroppedTailSize) {
    dropped_tail_.erase(0, dropped_tail_.size() - kDroppedTailSize);
  }
}

void LineBuffer::feed(std::string_view data) {
  while (!data.empty()) {
    if (discarding_) {
      const char* lf = static_cast<const char*>(std::memchr(data.data(), '\n', data.size()));
      if (!lf) {  // the whole piece belongs to the over-long line
        keep_tail(data);
        return;
      }
      keep_tail(data.substr(0, static_cast<std::size_t>(lf - data.data())));
      end_tail();
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
      const std::string_view dropped(base, available);
      dropped_head_.assign(dropped.substr(0, kDroppedHeadSize));
      dropped_tail_.clear();
      keep_tail(dropped);
      buffer_.erase(start_);
      scanned_ = 0;
      discarding_ = true;
    }
    return std::nullopt;
  }
  const std::size_t length = static_cast<std::size_t>(static_cast<const char*>(found) - base);
  scanned_ = 0;
  start_ += length + 1;
  if (length + 1 > max_line_length_) {
    const std::string_view dropped(base, length);
    dropped_head_.assign(dropped.substr(0, kDroppedHeadSize));
    dropped_tail_.clear();
    keep_tail(dropped);
    end_tail();
    return std::unexpected(LineError::too_long);
  }
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
