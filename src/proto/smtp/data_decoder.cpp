#include "proto/smtp/data_decoder.hpp"

namespace postamt::proto::smtp {
namespace {

bool is_special(char c) { return c == '\r' || c == '\n' || c == '\0'; }

}  // namespace

DataDecoder::DataDecoder(Framing framing, DataLimits limits) : framing_(framing), limits_(limits) {}

void DataDecoder::fail(DataError error) {
  if (!error_) error_ = error;
}

void DataDecoder::append_text(std::string& out, std::string_view text) {
  const std::size_t before = line_length_;
  line_length_ += text.size();
  if (error_) return;
  // Octets that still fit on this line (with its CRLF) and in the message. When the run
  // overflows, the error is the one its first overflowing octet hits, exactly as if the
  // octets came one at a time (the line is checked before the size), so the reason does
  // not depend on how the input was split.
  const std::size_t line_room = limits_.max_line >= before + 2 ? limits_.max_line - before - 2 : 0;
  const std::uint64_t size_room = limits_.max_size - size_;  // size_ never passes max_size
  if (text.size() > line_room || text.size() > size_room) {
    fail(line_room <= size_room ? DataError::line_too_long : DataError::too_big);
    return;
  }
  size_ += text.size();
  out.append(text);
}

// A CRLF (real, or a normalised bare line end) closes the current line.
void DataDecoder::crlf(std::string& out) {
  line_length_ = 0;
  state_ = State::line_start;
  if (error_) return;
  if (limits_.max_size < 2 || size_ > limits_.max_size - 2) {
    fail(DataError::too_big);
    return;
  }
  size_ += 2;
  out.append("\r\n");
}

void DataDecoder::bare_line_end(std::string& out) {
  if (limits_.normalize) {
    crlf(out);
  } else {
    fail(DataError::bare_line_ending);
    line_length_ = 0;
    state_ = State::line_start;
  }
  // Whatever follows a bare line end is at a line start for unstuffing, but never at
  // the start of a terminator: only <CRLF>.<CRLF> ends the data.
  crlf_line_start_ = false;
}

DataDecoder::Output DataDecoder::decode(std::string_view input) {
  Output out;
  const bool stuffed = framing_ == Framing::dot_stuffed;
  std::size_t i = 0;
  const std::size_t n = input.size();
  while (i < n && !ended_) {
    const char c = input[i];
    switch (state_) {
      case State::line_start:
        if (stuffed && c == '.') {
          state_ = State::dot;
          ++i;
        } else {
          state_ = State::text;  // c is handled as text
        }
        break;
      case State::text: {
        std::size_t run = i;
        while (run < n && !is_special(input[run])) ++run;
        if (run > i) {
          append_text(out.bytes, input.substr(i, run - i));
          i = run;
          break;
        }
        ++i;
        if (c == '\r') {
          state_ = State::cr;
        } else if (c == '\n') {
          bare_line_end(out.bytes);
        } else {
          fail(DataError::nul);
        }
        break;
      }
      case State::cr:
        if (c == '\n') {
          ++i;
          crlf(out.bytes);
          crlf_line_start_ = true;
        } else {
          bare_line_end(out.bytes);  // the held CR was bare; c starts the next line
        }
        break;
      case State::dot:
        if (c == '\r') {
          state_ = State::dot_cr;
          ++i;
        } else {
          state_ = State::text;  // the stuffing dot is dropped (§4.5.2); c is text
        }
        break;
      case State::dot_cr:
        if (c == '\n') {
          ++i;
          if (crlf_line_start_) {
            ended_ = true;  // <CRLF>.<CRLF>
          } else {
            crlf(out.bytes);  // "." alone after a bare line end: an empty content line
            crlf_line_start_ = true;
          }
        } else {
          state_ = State::cr;  // ".\r" + other: the dot was stuffing, the CR is bare
        }
        break;
    }
  }
  out.consumed = i;
  out.ended = ended_;
  if (error_) out.bytes.clear();
  return out;
}

std::string DataDecoder::finish() {
  std::string out;
  if (state_ == State::cr) bare_line_end(out);
  if (error_) out.clear();
  return out;
}

}  // namespace postamt::proto::smtp
