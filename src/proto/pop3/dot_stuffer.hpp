#pragma once
// DotStuffer: turns stored message bytes (CRLF line ends) into a POP3 multi-line
// response body (RFC 1939 §3): a line starting with "." gets another "." in front, and
// finish() adds the terminating ".\r\n" (after a CRLF if the content did not end with
// one). For TOP (RFC 1939 §7) it passes the header, the blank line and then at most
// `body_lines` lines of the body. Pieces may split the message anywhere.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::proto::pop3 {

class DotStuffer {
 public:
  explicit DotStuffer(std::optional<std::uint64_t> body_lines = std::nullopt);

  // Appends the stuffed form of `data` to `out`; nothing once done().
  void feed(std::string_view data, std::string& out);
  // Appends the terminator.
  void finish(std::string& out);
  // TOP passed its last line: the rest of the message is not needed.
  bool done() const { return done_; }

 private:
  void line_ended();

  std::optional<std::uint64_t> remaining_;  // body lines still to pass (TOP)
  bool in_header_ = true;
  bool line_start_ = true;
  bool line_empty_ = true;  // the current line has held nothing but CR so far
  bool done_ = false;
};

}  // namespace postamt::proto::pop3
