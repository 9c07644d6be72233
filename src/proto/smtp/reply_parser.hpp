#pragma once
// ReplyParser: the SMTP client's reader of server replies (RFC 5321 §4.2).
//
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                Reply-code [ SP textstring ] CRLF
//   Reply-code = %x32-35 %x30-35 %x30-39
//
// Bytes go in with feed() in any pieces; whole replies come out of next_reply(). Every
// line of a multi-line reply must carry the same code. An enhanced status code (RFC 2034
// §4, RFC 3463) at the start of the first line is taken into Reply::status when its class
// matches the code's first digit, and removed from every line that repeats it.
//
// Bounds: RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; real servers send longer
// ones, so up to kMaxReplyLineLength is accepted. A reply has at most kMaxReplyLines
// lines. Anything beyond, or a line that is not a reply line, is an error after which the
// connection is unusable (the parser keeps returning the error).
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "proto/line_buffer.hpp"
#include "proto/smtp/reply.hpp"

namespace postamt::proto::smtp {

inline constexpr std::size_t kMaxReplyLineLength = 2048;  // without CRLF
inline constexpr std::size_t kMaxReplyLines = 100;

enum class ReplyError {
  malformed,       // not "DDD", "DDD text" or "DDD-text", or the code changed mid-reply
  line_too_long,   // over kMaxReplyLineLength
  too_many_lines,  // over kMaxReplyLines
};

std::string_view describe(ReplyError error);

// The enhanced status code at the start of text ("2.1.5 Ok" -> "2.1.5"), or empty.
// class = 2/4/5, subject and detail 1-3 digits each (RFC 3463 §2).
std::string_view leading_status_code(std::string_view text);

class ReplyParser {
 public:
  ReplyParser();

  // Call next_reply() until it returns nothing after every feed(): that is what keeps
  // the buffer within one line limit plus one piece.
  void feed(std::string_view bytes);

  // The next complete reply, the error that broke the stream (returned again on every
  // later call), or nothing until more bytes arrive.
  std::optional<std::expected<Reply, ReplyError>> next_reply();

  // Drops everything buffered: after STARTTLS nothing sent in the clear counts (RFC 3207
  // §4.2, the client side of the same rule).
  void discard_buffered();

  std::size_t buffered() const { return input_.buffered(); }

 private:
  std::expected<bool, ReplyError> take_line(std::string_view line);  // true: reply complete
  Reply finish();

  LineBuffer input_;
  std::optional<ReplyError> error_;
  unsigned code_ = 0;
  std::size_t lines_ = 0;
  std::string text_;  // lines so far, '\n'-separated
};

}  // namespace postamt::proto::smtp
