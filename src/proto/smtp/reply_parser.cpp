#include "proto/smtp/reply_parser.hpp"

namespace postamt::proto::smtp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39.
std::optional<unsigned> reply_code(std::string_view line) {
  if (line.size() < 3) return std::nullopt;
  if (line[0] < '2' || line[0] > '5') return std::nullopt;
  if (line[1] < '0' || line[1] > '5') return std::nullopt;
  if (!is_digit(line[2])) return std::nullopt;
  return static_cast<unsigned>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
}

// Counts 1..max digits at text[pos...]; 0 when there are none or too many.
std::size_t digit_run(std::string_view text, std::size_t pos, std::size_t max) {
  std::size_t n = 0;
  while (pos + n < text.size() && is_digit(text[pos + n])) {
    if (++n > max) return 0;
  }
  return n;
}

// Strips "status" and the space after it from the start of line, when it is there.
std::string_view without_status(std::string_view line, std::string_view status) {
  if (status.empty() || !line.starts_with(status)) return line;
  const std::string_view rest = line.substr(status.size());
  if (rest.empty()) return rest;
  if (rest.front() != ' ') return line;
  return rest.substr(1);
}

}  // namespace

std::string_view describe(ReplyError error) {
  switch (error) {
    case ReplyError::malformed: return "malformed reply";
    case ReplyError::line_too_long: return "reply line too long";
    case ReplyError::too_many_lines: return "reply has too many lines";
  }
  return "bad reply";
}

std::string_view leading_status_code(std::string_view text) {
  // RFC 3463 §2: status-code = class "." subject "." detail
  if (text.size() < 5) return {};
  if (text[0] != '2' && text[0] != '4' && text[0] != '5') return {};
  if (text[1] != '.') return {};
  std::size_t pos = 2;
  const std::size_t subject = digit_run(text, pos, 3);
  if (subject == 0) return {};
  pos += subject;
  if (pos >= text.size() || text[pos] != '.') return {};
  ++pos;
  const std::size_t detail = digit_run(text, pos, 3);
  if (detail == 0) return {};
  pos += detail;
  if (pos < text.size() && text[pos] != ' ') return {};
  return text.substr(0, pos);
}

ReplyParser::ReplyParser() : input_(kMaxReplyLineLength + 2) {}  // + CRLF

void ReplyParser::feed(std::string_view bytes) {
  if (error_) return;
  input_.feed(bytes);
}

void ReplyParser::discard_buffered() {
  input_.discard_buffered();
  code_ = 0;
  lines_ = 0;
  text_.clear();
}

std::expected<bool, ReplyError> ReplyParser::take_line(std::string_view line) {
  const auto code = reply_code(line);
  if (!code) return std::unexpected(ReplyError::malformed);
  if (lines_ > 0 && *code != code_) return std::unexpected(ReplyError::malformed);
  bool last = true;
  std::string_view text;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      return std::unexpected(ReplyError::malformed);
    }
    text = line.substr(4);
  }
  // textstring = 1*(%d09 / %d32-126); other octets are kept visible but harmless.
  if (++lines_ > kMaxReplyLines) return std::unexpected(ReplyError::too_many_lines);
  code_ = *code;
  if (lines_ > 1) text_.push_back('\n');
  for (char c : text) {
    const auto octet = static_cast<unsigned char>(c);
    text_.push_back(octet == '\t' || (octet >= 0x20 && octet < 0x7f) || octet >= 0x80 ? c : '?');
  }
  return last;
}

Reply ReplyParser::finish() {
  Reply reply;
  reply.code = code_;
  const std::string_view first = std::string_view(text_).substr(0, text_.find('\n'));
  const std::string_view status = leading_status_code(first);
  if (!status.empty() && static_cast<unsigned>(status[0] - '0') == code_ / 100) {
    reply.status = std::string(status);
  }
  // Remove the status from every line that repeats it (RFC 2034 §4: each line has it).
  std::string_view rest = text_;
  while (true) {
    const std::size_t newline = rest.find('\n');
    reply.text.append(without_status(rest.substr(0, newline), reply.status));
    if (newline == std::string_view::npos) break;
    reply.text.push_back('\n');
    rest.remove_prefix(newline + 1);
  }
  code_ = 0;
  lines_ = 0;
  text_.clear();
  return reply;
}

std::optional<std::expected<Reply, ReplyError>> ReplyParser::next_reply() {
  if (error_) return std::unexpected(*error_);
  while (auto line = input_.next_line()) {
    if (!*line) {
      error_ = ReplyError::line_too_long;
      return std::unexpected(*error_);
    }
    const auto complete = take_line((*line)->text);
    if (!complete) {
      error_ = complete.error();
      return std::unexpected(*error_);
    }
    if (*complete) return finish();
  }
  return std::nullopt;
}

}  // namespace postamt::proto::smtp
