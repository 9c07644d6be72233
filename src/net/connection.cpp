#include "net/connection.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

#include "base/log.hpp"

namespace postamt::net {
namespace {

// One network read; also the most a line buffer holds beyond the line limit. With
// compression, also the most one fill() decompresses.
constexpr std::size_t kReadChunk = 16 * 1024;
// A compressed write goes out in slices of this size, so a large response is not held
// twice (plain and compressed) in memory.
constexpr std::size_t kCompressSlice = 64 * 1024;

}  // namespace

std::string_view read_error_name(ReadError error) {
  switch (error) {
    case ReadError::closed: return "closed";
    case ReadError::timeout: return "timeout";
    case ReadError::shutdown: return "shutdown";
    case ReadError::too_long: return "too_long";
    case ReadError::io: return "io";
  }
  return "io";
}

std::string_view timeout_reason_name(TimeoutReason reason) {
  switch (reason) {
    case TimeoutReason::none: return "none";
    case TimeoutReason::idle: return "idle";
    case TimeoutReason::command: return "command";
    case TimeoutReason::login: return "login";
  }
  return "idle";
}

Connection::Connection(Stream stream, ConnectionInfo info, std::chrono::seconds idle_timeout,
                       std::size_t max_line_length)
    : stream_(std::move(stream)),
      info_(std::move(info)),
      idle_timeout_(idle_timeout),
      lines_(max_line_length),
      deadline_(stream_.executor()) {}

Connection::~Connection() { stream_.close(); }

void Connection::start() {
  arm_deadline();
  asio::co_spawn(stream_.executor(), [self = shared_from_this()]() { return self->watchdog(); },
                 asio::detached);
}

// The watchdog's one timer wakes at the earliest of the three clocks: idle (re-armed by
// every read and write), command and login.
void Connection::arm_deadline() {
  auto expiry = std::chrono::steady_clock::now() + idle_timeout_;
  if (command_open_ && reading_since_) expiry = std::min(expiry, command_deadline());
  if (login_deadline_) expiry = std::min(expiry, *login_deadline_);
  deadline_.expires_at(expiry);
}

// While a read waits: when the command's budget (its timeout plus the allowance for the
// bytes received) is used up by this wait and the earlier ones.
std::chrono::steady_clock::time_point Connection::command_deadline() const {
  auto budget = std::chrono::duration_cast<std::chrono::steady_clock::duration>(command_timeout_);
  if (min_transfer_rate_ > 0) {
    budget += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(static_cast<double>(command_bytes_) /
                                      static_cast<double>(min_transfer_rate_)));
  }
  return *reading_since_ + budget - command_waited_;
}

// One read from the network, with the command clock's bookkeeping around it.
asio::awaitable<std::expected<std::size_t, std::error_code>> Connection::read_network(std::span<char> buffer) {
  reading_since_ = std::chrono::steady_clock::now();
  arm_deadline();
  auto n = co_await stream_.read_some(buffer);
  if (command_open_) command_waited_ += std::chrono::steady_clock::now() - *reading_since_;
  reading_since_.reset();
  if (n && command_open_) command_bytes_ += *n;
  co_return n;
}

void Connection::set_slow_client_limits(std::chrono::seconds command_timeout,
                                        std::size_t min_transfer_rate) {
  command_timeout_ = command_timeout;
  min_transfer_rate_ = min_transfer_rate;
}

void Connection::set_command_incomplete(bool incomplete) {
  if (incomplete == command_open_) return;
  command_open_ = incomplete;
  command_waited_ = {};
  command_bytes_ = 0;
}

void Connection::set_login_deadline(std::chrono::seconds timeout) {
  if (authenticated_) return;
  login_deadline_ = std::chrono::steady_clock::now() + timeout;
  if (!closed_ && !timed_out_) arm_deadline();
}

void Connection::mark_authenticated() {
  authenticated_ = true;
  if (slot_) slot_->mark_authenticated();
  login_deadline_.reset();
  if (!closed_ && !timed_out_) arm_deadline();
}

// Wakes when the deadline passes; re-arming it (every read and write) cancels the wait,
// so the loop only acts when the connection really sat idle for the whole timeout.
asio::awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    co_await deadline_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    if (closed_) break;
    // A re-armed deadline also ends the wait (operation_aborted): only act when the
    // deadline really passed.
    const auto now = std::chrono::steady_clock::now();
    if (deadline_.expiry() <= now) {
      timed_out_ = true;
      if (login_deadline_ && *login_deadline_ <= now) {
        timeout_reason_ = TimeoutReason::login;
      } else if (command_open_ && reading_since_ && command_deadline() <= now) {
        timeout_reason_ = TimeoutReason::command;
      } else {
        timeout_reason_ = TimeoutReason::idle;
      }
      if (timeout_reason_ != TimeoutReason::idle) {
        log::info("conn.too_slow", {{"sid", info_.session_id},
                                    {"remote", info_.remote_ip},
                                    {"clock", timeout_reason_name(timeout_reason_)}});
      }
      stream_.cancel();
      deadline_.expires_at(std::chrono::steady_clock::time_point::max());
    }
  }
}

ReadError Connection::classify(const std::error_code& ec) const {
  if (timed_out_) return ReadError::timeout;
  if (shutdown_requested_.load()) return ReadError::shutdown;
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::ssl::error::stream_truncated) {
    return ReadError::closed;
  }
  return ReadError::io;
}

asio::awaitable<std::expected<void, ReadError>> Connection::fill() {
  if (shutdown_requested_.load()) co_return std::unexpected(ReadError::shutdown);
  if (timed_out_) co_return std::unexpected(ReadError::timeout);
  if (compression_) co_return co_await fill_decompressed();
  char chunk[kReadChunk];
  auto n = co_await read_network(std::span<char>(chunk, sizeof chunk));
  if (!n) co_return std::unexpected(classify(n.error()));
  lines_.feed(std::string_view(chunk, *n));
  co_return std::expected<void, ReadError>{};
}

// RFC 4978: the peer's bytes form one DEFLATE stream. Each fill hands the line buffer at
// most one read chunk of plain bytes and reads the network only when the inflater has
// nothing left, so input that expands enormously is taken in bounded steps.
asio::awaitable<std::expected<void, ReadError>> Connection::fill_decompressed() {
  char chunk[kReadChunk];
  for (;;) {
    if (compression_->has_pending_input()) {
      auto plain = compression_->pull_decompressed(kReadChunk);
      if (!plain) {
        log::info("conn.decompress_failed", {{"sid", info_.session_id}, {"error", plain.error()}});
        co_return std::unexpected(ReadError::io);
      }
      if (!plain->empty()) {
        lines_.feed(*plain);
        co_return std::expected<void, ReadError>{};
      }
    }
    // The input so far held no data (block headers, an empty flush block): read on.
    if (shutdown_requested_.load()) co_return std::unexpected(ReadError::shutdown);
    if (timed_out_) co_return std::unexpected(ReadError::timeout);
    auto n = co_await read_network(std::span<char>(chunk, sizeof chunk));
    if (!n) co_return std::unexpected(classify(n.error()));
    compression_->push_compressed(std::string_view(chunk, *n));
  }
}

asio::awaitable<std::expected<OwnedLine, ReadError>> Connection::read_line() {
  for (;;) {
    if (auto line = lines_.next_line()) {
      if (!*line) co_return std::unexpected(ReadError::too_long);
      co_return OwnedLine{std::string((*line)->text), (*line)->bare_lf};
    }
    if (auto filled = co_await fill(); !filled) co_return std::unexpected(filled.error());
  }
}

asio::awaitable<std::expected<std::string, ReadError>> Connection::read_exact(std::size_t n) {
  std::string out = lines_.take(n);
  while (out.size() < n) {
    if (auto filled = co_await fill(); !filled) co_return std::unexpected(filled.error());
    out += lines_.take(n - out.size());
  }
  co_return out;
}

asio::awaitable<std::expected<std::string, ReadError>> Connection::read_some() {
  if (lines_.buffered() == 0) {
    if (auto filled = co_await fill(); !filled) co_return std::unexpected(filled.error());
  }
  co_return lines_.take(lines_.buffered());
}

asio::awaitable<bool> Connection::write(std::string_view data) {
  if (closed_) co_return false;
  arm_deadline();
  if (compression_) co_return co_await write_compressed(data);
  auto written = co_await stream_.write_all(data);
  co_return written.has_value();
}

// The last slice ends with a sync flush: the client can decode the whole burst without
// waiting for more (RFC 4978 §4).
asio::awaitable<bool> Connection::write_compressed(std::string_view data) {
  while (!data.empty()) {
    const std::string_view slice = data.substr(0, kCompressSlice);
    data.remove_prefix(slice.size());
    const auto flush = data.empty() ? DeflateCodec::Flush::sync : DeflateCodec::Flush::none;
    auto compressed = compression_->compress(slice, flush);
    if (!compressed) {
      log::warn("conn.compress_failed", {{"sid", info_.session_id}, {"error", compressed.error()}});
      co_return false;
    }
    if (compressed->empty()) continue;  // held back until a later slice
    if (!co_await stream_.write_all(*compressed)) co_return false;
  }
  co_return true;
}

asio::awaitable<std::expected<void, std::string>> Connection::start_tls() {
  lines_.discard_buffered();
  arm_deadline();
  auto shaken = co_await stream_.handshake();
  if (!shaken) co_return std::unexpected(shaken.error().message());
  // Bytes that arrived in the same segment as the last plaintext command are gone with
  // the buffer above; the TLS layer itself starts clean.
  lines_.discard_buffered();
  co_return std::expected<void, std::string>{};
}

std::expected<void, std::string> Connection::start_compression() {
  if (compression_) return std::unexpected("compression is already active");
  auto codec = DeflateCodec::create();
  if (!codec) return std::unexpected(std::move(codec.error()));
  // The client compresses only after it has seen the tagged OK (RFC 4978 §3): bytes that
  // are already here were sent before that, uncompressed, and are dropped as after STARTTLS.
  lines_.discard_buffered();
  compression_.emplace(std::move(*codec));
  return {};
}

void Connection::request_shutdown() {
  if (shutdown_requested_.exchange(true)) return;
  asio::post(stream_.executor(), [self = shared_from_this()] { self->stream_.cancel(); });
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  deadline_.cancel();
  stream_.close();
  slot_.reset();  // the place is free as soon as the socket is
}

}  // namespace postamt::net
