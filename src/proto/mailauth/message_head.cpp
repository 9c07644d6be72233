#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The end of the line starting at `from`: the offset of its CR (of CRLF) or LF, and the
// offset after the line break; npos when the line has no break.
struct LineEnd {
  std::size_t content_end;
  std::size_t next;
};

LineEnd line_end(std::string_view s, std::size_t from) {
  const std::size_t lf = s.find('\n', from);
  if (lf == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
  const std::size_t content_end = (lf > from && s[lf - 1] == '\r') ? lf - 1 : lf;
  return {content_end, lf + 1};
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 §3.6.8: ftext is %d33-57 / %d59-126.
bool is_ftext(char c) { return c >= 33 && c <= 126 && c != ':'; }

}  // namespace

bool field_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::size_t find_body_offset(std::string_view bytes) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto end = line_end(bytes, pos);
    if (end.next == std::string_view::npos) return std::string_view::npos;
    if (end.content_end == pos) return end.next;  // an empty line
    pos = end.next;
  }
  return std::string_view::npos;
}

SplitHead split_message_head(std::string_view message, MessageHeadLimits limits) {
  SplitHead head;
  const std::string_view input = message.substr(0, limits.max_head_size);
  std::size_t pos = 0;
  while (pos < input.size()) {
    const auto first = line_end(input, pos);
    if (first.content_end == pos) {  // the empty line
      head.complete = true;
      head.body_offset = first.next;
      return head;
    }
    if (is_wsp(input[pos])) {  // a continuation without a field before it
      head.malformed = true;
    }
    // The field runs over its continuation lines (lines starting with WSP).
    std::size_t last_content_end = first.content_end;
    std::size_t next = first.next;
    while (next != std::string_view::npos && next < input.size() && is_wsp(input[next])) {
      const auto more = line_end(input, next);
      last_content_end = more.content_end;
      next = more.next;
    }
    const std::size_t field_end = last_content_end == std::string_view::npos ? input.size() : last_content_end;
    const std::string_view raw = input.substr(pos, field_end - pos);
    const std::size_t colon = raw.find(':');
    std::size_t name_end = colon == std::string_view::npos ? 0 : colon;
    while (name_end > 0 && is_wsp(raw[name_end - 1])) --name_end;
    bool name_ok = name_end > 0;
    for (std::size_t i = 0; name_ok && i < name_end; ++i) name_ok = is_ftext(raw[i]);
    if (!name_ok) {
      head.malformed = true;
    } else {
      if (head.fields.size() >= limits.max_fields) {
        head.over_limits = true;
        head.body_offset = message.size();
        return head;
      }
      head.fields.push_back(HeaderField{raw.substr(0, name_end), raw.substr(colon + 1), raw});
    }
    if (next == std::string_view::npos || next >= input.size()) {
      pos = input.size();
      break;
    }
    pos = next;
  }
  // No empty line: the whole input is header (a header-only message) unless cut short.
  if (message.size() > input.size()) head.over_limits = true;
  head.body_offset = message.size();
  return head;
}

}  // namespace postamt::mailauth
