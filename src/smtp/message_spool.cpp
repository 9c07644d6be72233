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

namespace {

// `stored` (trace fields, then the message) with the edit applied, handed to `out` in
// pieces. The splices are normalised.
template <class Out>
void edited(std::string_view stored, std::size_t trace_size, const MessageSpool::HeadEdit& edit, Out&& out) {
  out(stored.substr(0, trace_size));
  out(edit.prepend);
  std::size_t at = trace_size;
  for (const auto& splice : edit.splices) {
    const std::size_t from = std::min(trace_size + splice.begin, stored.size());
    if (from < at || splice.end < splice.begin) continue;  // overlaps the one before: ignored
    out(stored.substr(at, from - at));
    out(splice.text);
    at = std::max(from, std::min(trace_size + splice.end, stored.size()));
  }
  out(stored.substr(at));
}

}  // namespace

void MessageSpool::HeadEdit::normalise() {
  std::ranges::stable_sort(splices, [](const Splice& a, const Splice& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return (a.end == a.begin) > (b.end == b.begin);  // insertions first
  });
}

asio::awaitable<storage::StoreResult<MessageSpool::Copy>> MessageSpool::copy_message(std::size_t limit) {
  if (!error_ && writer_ && !buffer_.empty()) co_await spill();
  if (error_) co_return std::unexpected(*error_);
  auto copy = [&](std::string_view stored) {
    const std::string_view message = stored.substr(std::min(trace_size_, stored.size()));
    return Copy{std::string(message.substr(0, limit)), message.size() > limit};
  };
  if (!writer_) co_return copy(buffer_);
  co_return co_await pool_.run([&]() -> storage::StoreResult<Copy> {
    auto stored = writer_->view();
    if (!stored) return std::unexpected(stored.error());
    return copy(*stored);
  });
}

asio::awaitable<storage::StoreResult<MessageSpool::Finished>> MessageSpool::finish(HeadEdit edit) {
  edit.normalise();
  if (!error_ && writer_ && !buffer_.empty()) co_await spill();
  if (error_) co_return std::unexpected(*error_);
  Finished finished;
  if (!writer_) {
    if (edit.empty()) {
      finished.content = std::exchange(buffer_, {});
    } else {
      finished.content.reserve(buffer_.size() + edit.prepend.size());
      edited(buffer_, trace_size_, edit, [&](std::string_view piece) { finished.content.append(piece); });
      buffer_.clear();
      buffer_.shrink_to_fit();
    }
    co_return finished;
  }
  if (edit.empty()) {
    finished.spooled = std::move(writer_);
    co_return finished;
  }
  // On disk already: copy it once into a new spool file with the edit applied.
  auto copied = co_await pool_.run([&]() -> storage::StoreResult<std::unique_ptr<storage::BlobWriter>> {
    auto old = writer_->view();
    if (!old) return std::unexpected(old.error());
    auto fresh = blobs_.begin_write();
    if (!fresh) return std::unexpected(fresh.error());
    storage::StoreResult<void> written;
    constexpr std::size_t kPiece = 1024 * 1024;
    edited(*old, trace_size_, edit, [&](std::string_view piece) {
      for (std::size_t at = 0; written && at < piece.size(); at += kPiece) {
        written = (*fresh)->append(piece.substr(at, kPiece));
      }
    });
    if (!written) return std::unexpected(written.error());
    writer_.reset();  // the old spool file goes
    return std::move(*fresh);
  });
  if (!copied) {
    error_ = copied.error();
    co_await discard();
    co_return std::unexpected(*error_);
  }
  finished.spooled = std::move(*copied);
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
