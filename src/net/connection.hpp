#pragma once
// Connection: one accepted client, as the protocol session drivers see it. It owns the
// stream, a bounded line buffer, the idle deadline and the shutdown request; sessions
// read lines, exact-length payloads or raw bytes and write replies through it.
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/config.hpp"
#include "net/connection_limiter.hpp"
#include "net/deflate_codec.hpp"
#include "net/stream.hpp"
#include "proto/line_buffer.hpp"

namespace postamt::net {

struct ConnectionInfo {
  std::uint64_t session_id = 0;
  Protocol protocol = Protocol::smtp;
  std::string remote_ip;
  std::uint16_t remote_port = 0;
  std::string local_address;  // "ip:port" the client connected to
};

enum class ReadError {
  closed,    // the peer closed the connection
  timeout,   // idle longer than the limit, or too slow (see timeout_reason())
  shutdown,  // the server is draining (SIGTERM)
  too_long,  // a line over the limit (the connection stays usable)
  io,        // any other socket or TLS failure
};
std::string_view read_error_name(ReadError error);

// Why a read ended with ReadError::timeout.
enum class TimeoutReason {
  none,
  idle,     // nothing sent or read for the idle timeout
  command,  // a command (line, literal, message body) arrived too slowly
  login,    // not authenticated within the login timeout
};
std::string_view timeout_reason_name(TimeoutReason reason);

struct OwnedLine {
  std::string text;  // without CRLF
  bool bare_lf = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Stream stream, ConnectionInfo info, std::chrono::seconds idle_timeout,
             std::size_t max_line_length);
  ~Connection();

  const ConnectionInfo& info() const { return info_; }
  Stream& stream() { return stream_; }
  asio::any_io_executor executor() { return stream_.executor(); }

  // Starts the idle watchdog; call once, from the connection's executor.
  void start();

  asio::awaitable<std::expected<OwnedLine, ReadError>> read_line();
  // Exactly n bytes (a literal or a BDAT chunk); the caller bounds n.
  asio::awaitable<std::expected<std::string, ReadError>> read_exact(std::size_t n);
  // Whatever arrives next: buffered bytes first, then one read from the socket.
  asio::awaitable<std::expected<std::string, ReadError>> read_some();

  // Sends all of `data`; once compression is on, compressed and flushed (RFC 4978 §4).
  asio::awaitable<bool> write(std::string_view data);

  // STARTTLS: the handshake, after which anything the client pipelined before it is
  // dropped (RFC 3207 §4.2, RFC 2595 §3.1, RFC 9051 §6.2.1).
  asio::awaitable<std::expected<void, std::string>> start_tls();

  // COMPRESS=DEFLATE (RFC 4978 §3): call right after writing the tagged OK. From then on
  // reads see the decompressed bytes and write() compresses; the compression sits on top
  // of TLS. An invalid stream from the peer ends reads with ReadError::io. Fails when
  // compression is already on or zlib has no memory.
  std::expected<void, std::string> start_compression();
  bool compression_active() const { return compression_.has_value(); }

  void set_max_line_length(std::size_t n) { lines_.set_max_line_length(n); }
  // A protocol may allow longer silences once a client is known (IMAP: 30 minutes after
  // login, RFC 9051 §5.4). Takes effect from now.
  void set_idle_timeout(std::chrono::seconds timeout) {
    idle_timeout_ = timeout;
    arm_deadline();
  }
  std::size_t buffered() const { return lines_.buffered(); }

  // --- Slow clients (issue 13 §2): a trickle of bytes, each just before the idle
  // timeout, must not keep a connection forever.
  //
  // The command clock. Before each read the session says whether its input ends inside a
  // command (a partial line, a literal, a DATA or BDAT body still coming). From the first
  // `true` the rest must arrive within `command_timeout` of waiting for it, plus one second
  // for every `min_transfer_rate` bytes received since (a steady sender of a big message
  // is never cut off, a trickler is). Only time spent waiting in a read counts: a session
  // busy writing to a slow reader is the idle timeout's business. Past that, reads end
  // with ReadError::timeout and timeout_reason() is TimeoutReason::command. `false` stops
  // the clock; `true` while it runs changes nothing.
  void set_slow_client_limits(std::chrono::seconds command_timeout, std::size_t min_transfer_rate);
  void set_command_incomplete(bool incomplete);
  // The login clock: the session must call mark_authenticated() within `timeout` from
  // now, or reads end with ReadError::timeout (TimeoutReason::login).
  void set_login_deadline(std::chrono::seconds timeout);
  // Logged in: stops the login clock and moves the connection out of the limiter's
  // unauthenticated caps (attach_slot()).
  void mark_authenticated();
  bool authenticated() const { return authenticated_; }
  // The connection's place in the ConnectionLimiter; released on close().
  void attach_slot(ConnectionLimiter::Slot slot) { slot_.emplace(std::move(slot)); }
  TimeoutReason timeout_reason() const { return timeout_reason_; }

  // Thread-safe: asks the session to end (pending reads return ReadError::shutdown).
  void request_shutdown();
  bool shutdown_requested() const { return shutdown_requested_.load(); }
  void close();

 private:
  asio::awaitable<std::expected<void, ReadError>> fill();
  asio::awaitable<std::expected<void, ReadError>> fill_decompressed();
  asio::awaitable<bool> write_compressed(std::string_view data);
  asio::awaitable<void> watchdog();
  void arm_deadline();
  asio::awaitable<std::expected<std::size_t, std::error_code>> read_network(std::span<char> buffer);
  std::chrono::steady_clock::time_point command_deadline() const;
  ReadError classify(const std::error_code& ec) const;

  Stream stream_;
  ConnectionInfo info_;
  std::chrono::seconds idle_timeout_;
  proto::LineBuffer lines_;
  std::optional<DeflateCodec> compression_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  TimeoutReason timeout_reason_ = TimeoutReason::none;
  // The command clock (set_command_incomplete) and the login clock.
  std::chrono::seconds command_timeout_{60};
  std::size_t min_transfer_rate_ = 1024;
  bool command_open_ = false;
  std::chrono::steady_clock::duration command_waited_{};  // in reads, since it opened
  std::uint64_t command_bytes_ = 0;
  std::optional<std::chrono::steady_clock::time_point> reading_since_;  // a read is pending
  std::optional<std::chrono::steady_clock::time_point> login_deadline_;
  bool authenticated_ = false;
  std::optional<ConnectionLimiter::Slot> slot_;
  bool closed_ = false;
  std::atomic<bool> shutdown_requested_{false};
};

}  // namespace postamt::net
