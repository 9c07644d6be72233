#pragma once
// DataDecoder: the streaming decoder of message content, for DATA (RFC 5321 §4.5.2) and
// for BDAT chunks (RFC 3030). It holds no message bytes: each call turns the input it is
// given into at most as many output bytes (plus line ends added by normalisation), and
// carries only a few bits of state across calls, so a message of any size passes through
// it in bounded memory and decodes identically however the input is split.
//
// DATA (Framing::dot_stuffed):
//   * The only end of the data is <CRLF>.<CRLF>, where the first CRLF may be the one that
//     ended the DATA command (so a "." line right after the 354 ends an empty message).
//     A "." line after a bare LF or bare CR is never an end: "\n.\n", "\r.\r", "\n.\r\n",
//     "\r\n.\n", "\r.\r\n" are content (SMTP smuggling defence, DESIGN "Security rules").
//   * Dot-unstuffing: a line's leading "." is removed (§4.5.2).
// Both framings:
//   * A bare CR or LF (not part of CRLF) fails the message with bare_line_ending, unless
//     normalise is set, in which case it becomes CRLF. Either way the output is always
//     CRLF-clean: it never contains a CR or LF outside a CRLF pair.
//   * NUL fails the message (RFC 5321 §4.5.2 data is text; RFC 6152 8BITMIME excludes
//     NUL).
//   * A line longer than max_line octets including CRLF, not counting a stuffing dot
//     (RFC 5321 §4.5.3.1.6, RFC 5322 §2.1.1), fails the message.
//   * More than max_size octets of output fails the message (RFC 1870).
// After the first failure the decoder produces no more output but keeps scanning, so
// DATA still ends at the real <CRLF>.<CRLF> and the session stays in step with the peer;
// the caller replies only then.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::proto::smtp {

enum class Framing { dot_stuffed, chunked };

enum class DataError {
  too_big,           // 552 5.3.4
  bare_line_ending,  // 550 5.6.0
  nul,               // 550 5.6.0
  line_too_long,     // 550 5.6.0
};

struct DataLimits {
  std::uint64_t max_size = 0;     // octets of decoded message
  std::size_t max_line = 1000;    // octets per line including CRLF
  bool normalize = false;         // bare CR / LF -> CRLF instead of failing
};

class DataDecoder {
 public:
  DataDecoder(Framing framing, DataLimits limits);

  struct Output {
    std::size_t consumed = 0;  // input octets used; less than the input only after the end
    bool ended = false;        // dot_stuffed: the <CRLF>.<CRLF> was consumed
    std::string bytes;         // decoded message octets; empty once the message failed
  };

  Output decode(std::string_view input);

  // Chunked framing: the last chunk is complete. A CR still waiting for its LF is bare.
  // Returns the final octets (empty or "\r\n" when normalising).
  std::string finish();

  std::optional<DataError> error() const { return error_; }
  bool ended() const { return ended_; }
  std::uint64_t size() const { return size_; }  // decoded octets produced so far

 private:
  enum class State : std::uint8_t {
    line_start,  // at the start of a line
    dot,         // a '.' at the start of a line (held back: stuffing or terminator)
    dot_cr,      // ".\r" at the start of a line
    text,        // inside a line
    cr,          // a '\r' inside a line, waiting for its '\n'
  };

  void append_text(std::string& out, std::string_view text);
  void crlf(std::string& out);
  void bare_line_end(std::string& out);
  void fail(DataError error);

  Framing framing_;
  DataLimits limits_;
  State state_ = State::line_start;
  bool crlf_line_start_ = true;  // the current line began after a real CRLF (or at the start)
  bool ended_ = false;
  std::optional<DataError> error_;
  std::size_t line_length_ = 0;  // decoded octets of the current line, without its end
  std::uint64_t size_ = 0;
};

}  // namespace postamt::proto::smtp
