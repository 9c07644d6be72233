#include "proto/pop3/dot_stuffer.hpp"

namespace postamt::proto::pop3 {

// TOP n 0 passes the header and the blank line only: done once the blank line passed.
DotStuffer::DotStuffer(std::optional<std::uint64_t> body_lines) : remaining_(body_lines) {}

void DotStuffer::line_ended() {
  line_start_ = true;
  const bool empty = line_empty_;
  line_empty_ = true;
  if (!remaining_) return;
  if (in_header_) {
    if (empty) {
      in_header_ = false;  // RFC 5322 §2.1: the first empty line ends the header
      if (*remaining_ == 0) done_ = true;
    }
    return;
  }
  if (--*remaining_ == 0) done_ = true;
}

void DotStuffer::feed(std::string_view data, std::string& out) {
  std::size_t pos = 0;
  while (pos < data.size() && !done_) {
    if (line_start_ && data[pos] == '.') out += '.';  // RFC 1939 §3 byte-stuffing
    const std::size_t lf = data.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
    const std::string_view segment = data.substr(pos, end - pos);
    out += segment;
    if (line_empty_) {
      for (char c : segment) {
        if (c != '\r' && c != '\n') {
          line_empty_ = false;
          break;
        }
      }
    }
    pos = end;
    if (lf == std::string_view::npos) {
      line_start_ = false;
    } else {
      line_ended();
    }
  }
}

void DotStuffer::finish(std::string& out) {
  if (!line_start_) out += "\r\n";
  out += ".\r\n";
}

}  // namespace postamt::proto::pop3
