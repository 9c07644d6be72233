#pragma once
// CommandReader: incremental, sans-I/O framing of IMAP client commands
// (RFC 9051 §2.2.1, §4.3; LITERAL+/LITERAL- RFC 7888; literal8 RFC 3516).
//
// Bytes go in with receive() in whatever pieces the network delivered. next_event() yields
// a complete Command (its lines with the literal markers stripped, and the literal payloads
// that followed each marker), a NeedContinuation for a synchronising literal `{n}`, or a
// ReaderError. After NeedContinuation the reader waits: the driver either answers "+ ..."
// and calls continue_literal() (exactly n octets are then read), or answers tagged NO/BAD
// and calls reject_literal() (the command is dropped; the client sends no literal).
//
// Everything is bounded: a line (LineBuffer: an over-long line is dropped as it arrives and
// reported with the tag its first octets show; the rest of that command, up to a line
// without a literal, is then read and thrown away: a {n+} literal of it within the literal
// limit is skipped, a bigger one is a fatal error), a literal (checked against the announced size BEFORE any octet is read, so the
// driver can answer [TOOBIG]), the number of literals and the total size of one command.
//
// Non-synchronising literals `{n+}` over a limit: the client sends the octets without
// waiting (RFC 7888 §4), so after refusing the command the stream is no longer at a command
// boundary. This reader does not read and discard up to 50 MiB+ of unwanted data: the error
// is marked fatal, the driver answers tagged BAD [TOOBIG] (or BYE) and closes (RFC 7888 §4
// lets the server close the connection; §5 LITERAL- asks for [TOOBIG]). After a fatal error
// the reader yields nothing more.
//
// Lines end in CRLF (RFC 9051 §2.2); a bare LF is accepted as well, as LineBuffer does.
// While a continuation decision is pending nothing is consumed, so the driver should decide
// before it reads more from the socket (a client must not send before "+" anyway).
//
// The limits may change between commands (set_limits): the session allows only small
// literals before login (RFC 7888 §4 lets a server refuse any literal it does not want;
// a few KiB are enough for LOGIN and AUTHENTICATE) and the APPENDLIMIT after it.
//
// APPEND literals of at least ReaderLimits::spill_threshold octets are not held: their
// octets come out as LiteralBytes events, in order, split anywhere, for the driver to
// write to a file; the Command then carries the Literal with `spilled` set and no data.
// A command can be dropped after some of its octets went out that way (a later literal of
// it is refused with reject_literal(), or a ReaderError ends it): the driver then discards
// what it wrote; the next LiteralBytes belong to the next command.
//
// The `{n-}` spelling does not exist in RFC 7888: LITERAL- clients send `{n+}` and the
// server limits it to 4096 octets (§5). With ReaderLimits::literal_minus set, a `{n+}` over
// 4096 is refused as above.
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/imap/literal_marker.hpp"
#include "proto/line_buffer.hpp"

namespace postamt::proto::imap {

struct ReaderLimits {
  std::size_t max_line_length = 8192;                    // one line incl. CRLF
  std::uint64_t max_literal_size = 50u * 1024 * 1024;    // APPENDLIMIT
  std::size_t max_literals = 64;                         // per command
  std::uint64_t max_command_size = 64u * 1024 * 1024;    // lines + literals of one command
  bool literal_minus = false;  // advertise LITERAL- instead of LITERAL+ (RFC 7888 §5)
  std::uint64_t spill_threshold = 0;  // APPEND literals this big go out as LiteralBytes; 0: never
};

// RFC 7888 §5: the largest non-synchronising literal a LITERAL- server accepts.
inline constexpr std::uint64_t kLiteralMinusMax = 4096;

struct Literal {
  std::string data;
  bool binary = false;          // literal8 `~{n}` (RFC 3516 §4.2): may hold NUL
  bool synchronizing = true;    // `{n}` rather than `{n+}`
  bool spilled = false;         // the octets went out as LiteralBytes; `data` is empty
  std::uint64_t size = 0;       // the announced size
};

// One framed command: lines[i] is followed by literals[i]; lines.size() ==
// literals.size() + 1. The `{n}` / `{n+}` / `~{n}` markers are removed from the lines: a
// literal stands exactly where its marker stood (at the end of lines[i]).
struct Command {
  std::vector<std::string> lines;
  std::vector<Literal> literals;
};

// A synchronising literal was announced and is within limits: the driver answers
// "+ Ready" (RFC 9051 §7.5) and calls continue_literal(), or refuses and calls
// reject_literal().
struct NeedContinuation {
  std::uint64_t size = 0;
  std::string tag;  // the command's tag as sent (may be invalid; empty if none)
};

// Octets of a spilled literal (ReaderLimits::spill_threshold), in order.
struct LiteralBytes {
  std::string data;
};

enum class ReaderErrorKind {
  line_too_long,      // a line over max_line_length: BAD (tagged if its head shows the tag)
  literal_too_big,    // announced literal over the limit: NO/BAD [TOOBIG]
  too_many_literals,  // more than max_literals in one command: BAD
  command_too_big,    // lines + literals over max_command_size: BAD [TOOBIG]
};

struct ReaderError {
  ReaderErrorKind kind;
  std::string tag;     // the command's tag if its first line was read, else empty
  bool fatal = false;  // the stream is out of sync: answer, then close the connection
  std::uint64_t literal_size = 0;  // the announced size, for literal errors

  std::string_view reason() const;
};

using ReaderEvent = std::variant<Command, NeedContinuation, ReaderError, LiteralBytes>;

class CommandReader {
 public:
  explicit CommandReader(ReaderLimits limits = {});

  void receive(std::string_view data);
  // New limits for literals and commands announced from now on (the line limit stays).
  void set_limits(const ReaderLimits& limits);

  // The next event, or nothing until more input (or a continuation decision) arrives.
  std::optional<ReaderEvent> next_event();

  // Answers the last NeedContinuation. Ignored in any other state.
  void continue_literal();
  void reject_literal();

  // A line outside the command syntax, between commands: an AUTHENTICATE response
  // (RFC 9051 §6.2.2) or IDLE's "DONE" (RFC 2177). Nothing: no complete line yet (or a
  // command is half read); false inside: the line was over the limit and is dropped.
  std::optional<std::expected<std::string, ReaderErrorKind>> next_raw_line();
  // STARTTLS: whatever the client pipelined after the command is dropped (RFC 9051 §6.2.1).
  void discard_buffered() { lines_.discard_buffered(); }
  // The lines of the command being read so far (to judge a literal before "+").
  const Command& pending_command() const { return current_; }

  bool awaiting_continuation() const { return state_ == State::awaiting_continuation; }
  bool closed() const { return state_ == State::closed; }
  std::size_t buffered_input() const { return lines_.buffered(); }
  // Octets of the current, still incomplete command held in memory.
  std::uint64_t command_bytes() const { return command_bytes_; }
  const ReaderLimits& limits() const { return limits_; }

 private:
  enum class State { line, awaiting_continuation, literal, closed };

  std::optional<ReaderEvent> on_line(std::string_view text);
  ReaderError fail(ReaderErrorKind kind, bool fatal, std::uint64_t literal_size);
  bool can_skip(const std::optional<LiteralMarker>& marker) const;
  bool skip_rest(const std::optional<LiteralMarker>& marker);
  void reset_command();

  ReaderLimits limits_;
  LineBuffer lines_;
  State state_ = State::line;
  Command current_;
  std::string tag_;
  std::uint64_t command_bytes_ = 0;
  std::uint64_t literal_remaining_ = 0;
  bool spilling_ = false;  // the literal being read goes out as LiteralBytes
  bool skipping_ = false;  // reading and dropping the rest of a refused over-long command
};

}  // namespace postamt::proto::imap
