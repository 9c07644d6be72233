#include "proto/smtp/reply.hpp"

#include <algorithm>

namespace postamt::proto::smtp {
namespace {

constexpr std::size_t kMaxReplyLine = 512;  // RFC 5321 §4.5.3.1.5, including CRLF

void append_line(std::string& out, unsigned code, bool last, std::string_view status,
                 std::string_view text) {
  const std::size_t line_start = out.size();
  const unsigned safe_code = std::clamp(code, 200u, 599u);
  out.push_back(static_cast<char>('0' + safe_code / 100));
  out.push_back(static_cast<char>('0' + safe_code / 10 % 10));
  out.push_back(static_cast<char>('0' + safe_code % 10));
  out.push_back(last ? ' ' : '-');
  std::string body;
  if (!status.empty()) {
    body.append(status);
    if (!text.empty()) body.push_back(' ');
  }
  body.append(text);
  const std::size_t room = kMaxReplyLine - 2 - (out.size() - line_start);
  if (body.size() > room) body.resize(room);
  for (char& c : body) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet == '\t') continue;
    if (octet < 0x20 || octet >= 0x7f) c = '?';
  }
  // A reply line never ends in trailing space when the text was empty.
  while (!body.empty() && body.back() == ' ') body.pop_back();
  out.append(body);
  out.append("\r\n");
}

}  // namespace

Reply make_reply(unsigned code, std::string_view status, std::string_view text) {
  return Reply{code, std::string(status), std::string(text)};
}

std::string format_reply(const Reply& reply) {
  std::string out;
  std::string_view rest = reply.text;
  while (true) {
    const std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      append_line(out, reply.code, true, reply.status, rest);
      break;
    }
    append_line(out, reply.code, false, reply.status, rest.substr(0, newline));
    rest.remove_prefix(newline + 1);
  }
  return out;
}

}  // namespace postamt::proto::smtp
