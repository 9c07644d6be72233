#include "smtp/message_spool.hpp"

#include <algorithm>
#include <utility>

#include "net/blocking_pool.hpp"

namespace postamt::smtp {

MessageSpool::~MessageSpool() = default;

void MessageSpool::start(std::string trace) {
  buffer_ = std::move(trace);
  writer_.reset();
  head_.clear();
  body_size_ = 0;
  error_.reset();
}

asio::awaitable<void> MessageSpool::append(std::string_view bytes) {
  body_size_ += bytes.size();
  if (head_.size() < kSpoolHeadLimit) {
    head_.append(bytes.substr(0, kSpoolHeadLimit - head_.size()));
  }
  if (error_) co_return;
  buffer_.append(bytes);
  if (buffer_.size() > memory_limit_) co_await spill();
}

// Writes what is buffered to the spool file, opening it first if needed.
asio::awaitable<void> MessageSpool::spill() {
  auto written = co_await pool_.run([this]() -> storage::StoreResult<void> {
    if (!writer_) {
      auto writer = blobs_.begin_write();
      if (!writer) return std::unexpected(writer.error());
      writer_ = std::move(*writer);
    }
    return writer_->append(buffer_);
  });
  buffer_.clear();
  if (buffer_.capacity() > 2 * memory_limit_) buffer_.shrink_to_fit();  // one huge chunk
  if (!written) error_ = written.error();
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
