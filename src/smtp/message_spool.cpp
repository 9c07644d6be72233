#include "smtp/message_spool.hpp"

#include <algorithm>
#include <utility>

#include "net/blocking_pool.hpp"

namespace postamt::smtp {

MessageSpool::~MessageSpool() = default;

void MessageSpool::start(std::string trace) {
  trace_size_ = trace.size();
  buffer_ = std::move(trace);
  writer_.reset();
  head_.clear();
  body_size_ = 0;
  error_.reset();
}

std::string_view MessageSpool::head() const {
  // While the message is all in memory its head is the start of the buffer.
  if (!writer_ && !error_) {
    if (buffer_.size() < trace_size_) return {};  // handed over by finish(), or discarded
    return std::string_view(buffer_).substr(trace_size_, kSpoolHeadLimit);
  }
  return head_;
}

asio::awaitable<void> MessageSpool::append(std::string_view bytes) {
  body_size_ += bytes.size();
  if (error_) co_return;
  const std::size_t needed = buffer_.size() + bytes.size();
  if (needed > buffer_.capacity() && needed > kSpoolHeadLimit) {
    // One allocation for the rest of the message instead of doubling up to it: the
    // freed steps would stay in the heap of every session that had a large message.
    buffer_.reserve(std::max(needed, memory_limit_ + kSpillSlack));
  }
  buffer_.append(bytes);
  if (buffer_.size() > memory_limit_) co_await spill();
}

// Writes what is buffered to the spool file, opening it first if needed.
asio::awaitable<void> MessageSpool::spill() {
  if (!writer_) head_ = buffer_.substr(trace_size_, kSpoolHeadLimit);
  auto written = co_await pool_.run([this]() -> storage::StoreResult<void> {
    if (!writer_) {
      auto writer = blobs_.begin_write();
      if (!writer) return std::unexpected(writer.error());
      writer_ = std::move(*writer);
    }
    return writer_->append(buffer_);
  });
  buffer_.clear();
  if (buffer_.capacity() > memory_limit_ + kSpillSlack) buffer_.shrink_to_fit();  // one huge chunk
  if (!written) {
    error_ = written.error();
    buffer_.shrink_to_fit();  // nothing more is kept
  }
}

asio::awaitable<storage::StoreResult<MessageSpool::Finished>> MessageSpool::finish() {
  if (!error_ && writer_ && !buffer_.empty()) co_await spill();
  if (error_) co_return std::unexpected(*error_);
  Finished finished;
  if (writer_) {
    finished.spooled = std::move(writer_);
  } else {
    finished.content = std::exchange(buffer_, {});
  }
  co_return finished;
}

asio::awaitable<void> MessageSpool::discard() {
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_.clear();
  head_.shrink_to_fit();
  if (writer_) {
    co_await pool_.run([this] {
      writer_.reset();
      return true;
    });
  }
}

}  // namespace postamt::smtp
