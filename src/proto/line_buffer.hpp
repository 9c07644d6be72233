#pragma once
// LineBuffer: the bounded, sans-I/O line splitter under every text protocol.
//
// Bytes go in with feed() in whatever pieces the network delivered; complete lines come
// out of next_line(). A line longer than the limit is never buffered whole: once the limit
// is passed its bytes are dropped as they arrive, and when its end finally comes the
// caller gets LineError::too_long instead of the line. Memory therefore stays at about the
// limit plus one network read, whatever the peer sends.
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::proto {

struct Line {
  std::string_view text;  // without the terminating CRLF or LF
  bool bare_lf = false;   // ended in LF without CR (SMTP must refuse this in DATA)
};

enum class LineError { too_long };

class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_line_length);

  void feed(std::string_view data);

  // The next complete line, an error for an over-long one, or nothing until more bytes
  // arrive. The view stays valid until the next feed(), take() or discard_buffered().
  std::optional<std::expected<Line, LineError>> next_line();

  // Takes up to n raw bytes (literal and chunk payloads that bypass line splitting).
  std::string take(std::size_t n);

  std::size_t buffered() const { return buffer_.size() - start_; }
  bool discarding() const { return discarding_; }
  std::size_t max_line_length() const { return max_line_length_; }
  void set_max_line_length(std::size_t n) { max_line_length_ = n; }

  // The first and last octets of the last over-long line (at most kDroppedHeadSize and
  // kDroppedTailSize, the tail without its CR), kept so that a protocol can still name the
  // command it refuses (an IMAP tag) and see how the line ended (a literal announcement).
  static constexpr std::size_t kDroppedHeadSize = 64;
  static constexpr std::size_t kDroppedTailSize = 32;
  std::string_view dropped_head() const { return dropped_head_; }
  std::string_view dropped_tail() const { return dropped_tail_; }

  // Drops everything buffered (after STARTTLS, RFC 3207 §4.2: nothing the client sent
  // before the handshake may be acted on).
  void discard_buffered();

 private:
  void compact();
  void keep_tail(std::string_view more);
  void end_tail();

  std::size_t max_line_length_;
  std::string buffer_;
  std::size_t start_ = 0;      // first unconsumed byte in buffer_
  std::size_t scanned_ = 0;    // bytes from start_ known to hold no LF
  bool discarding_ = false;    // inside an over-long line, dropping until its LF
  bool overflow_pending_ = false;  // an over-long line ended; report it next
  std::string dropped_head_;
  std::string dropped_tail_;
};

}  // namespace postamt::proto
