#include "smtp/filter_edits.hpp"

#include <optional>

#include "filter/decision.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::smtp {
namespace {

struct FieldSpan {
  std::size_t begin = 0;
  std::size_t end = 0;  // after the field's line end
};

std::size_t line_end_after(std::string_view head, std::size_t at) {
  if (at < head.size() && head[at] == '\r') ++at;
  if (at < head.size() && head[at] == '\n') ++at;
  return at;
}

// Continuation lines keep their CRLF + WSP; any other CR or LF becomes a space so a
// filter's value can never end the field early or smuggle a field of its own.
std::string clean_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\r' && i + 2 < value.size() && value[i + 1] == '\n' && (value[i + 2] == ' ' || value[i + 2] == '\t')) {
      out += "\r\n";
      ++i;
    } else if (c == '\n' && i + 1 < value.size() && (value[i + 1] == ' ' || value[i + 1] == '\t')) {
      out += "\r\n";
    } else if (c == '\r' || c == '\n' || c == '\0') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string header_field_line(std::string_view name, std::string_view value) {
  const std::string cleaned = clean_value(value);
  std::string out(name);
  out += ':';
  if (cleaned.find("\r\n") != std::string::npos) {  // folded by the filter already
    if (cleaned.empty() || (cleaned[0] != ' ' && cleaned[0] != '\t')) out += ' ';
    return out + cleaned + "\r\n";
  }
  constexpr std::size_t kWidth = 78;
  std::size_t line = out.size();
  std::size_t at = 0;
  while (at < cleaned.size()) {
    // The next word: up to and including a comma, or up to a space.
    std::size_t end = at;
    while (end < cleaned.size() && cleaned[end] != ' ' && cleaned[end] != ',') ++end;
    if (end < cleaned.size() && cleaned[end] == ',') ++end;
    std::string_view word = std::string_view(cleaned).substr(at, end - at);
    const bool first = at == 0;
    if (!first && line + 1 + word.size() > kWidth) {
      out += "\r\n\t";
      line = 1;
    } else if (first || cleaned[at - 1] == ' ' || out.back() == ':') {
      out += ' ';
      ++line;
    }
    out += word;
    line += word.size();
    at = end;
    while (at < cleaned.size() && cleaned[at] == ' ') ++at;
  }
  return out + "\r\n";
}

std::string verbatim_field_line(std::string_view name, std::string_view value) {
  const std::string cleaned = clean_value(value);
  std::string out(name);
  out += ':';
  if (cleaned.empty() || (cleaned[0] != ' ' && cleaned[0] != '\t')) out += ' ';
  return out + cleaned + "\r\n";
}

void add_header_changes(std::string_view head, const std::vector<filter::HeaderChange>& changes,
                        bool drop_incoming_verdicts, MessageSpool::HeadEdit& edit) {
  const mailauth::SplitHead split = mailauth::split_message_head(head);
  std::vector<FieldSpan> spans;
  spans.reserve(split.fields.size());
  for (const auto& field : split.fields) {
    const std::size_t begin = static_cast<std::size_t>(field.raw.data() - head.data());
    spans.push_back({begin, line_end_after(head, begin + field.raw.size())});
  }
  // Where a field added "at the end of the header" goes: after the last field.
  const std::size_t header_end = spans.empty() ? 0 : spans.back().end;
  std::vector<bool> dropped(spans.size(), false);

  if (drop_incoming_verdicts) {
    for (std::size_t i = 0; i < split.fields.size(); ++i) {
      if (filter::is_our_verdict_field(split.fields[i].name)) {
        edit.drop(spans[i].begin, spans[i].end);
        dropped[i] = true;
      }
    }
  }
  for (const auto& change : changes) {
    const auto field_line = [&change](std::string_view name, std::string_view value) {
      return change.verbatim ? verbatim_field_line(name, value) : header_field_line(name, value);
    };
    switch (change.kind) {
      case filter::HeaderChange::Kind::add:
        edit.insert(header_end, field_line(change.name, change.value));
        break;
      case filter::HeaderChange::Kind::insert:
        if (change.index == 0) {
          edit.prepend += field_line(change.name, change.value);
        } else {
          const std::size_t at = change.index < spans.size() ? spans[change.index].begin : header_end;
          edit.insert(at, field_line(change.name, change.value));
        }
        break;
      case filter::HeaderChange::Kind::change: {
        // The index-th (1-based) field of that name; libmilter adds the field when there
        // is no such occurrence and a value is given.
        std::optional<std::size_t> found;
        std::size_t seen = 0;
        for (std::size_t i = 0; i < split.fields.size(); ++i) {
          if (!mailauth::field_name_equals(split.fields[i].name, change.name)) continue;
          if (++seen == std::max<std::size_t>(change.index, 1)) {
            found = i;
            break;
          }
        }
        if (!found) {
          if (!change.value.empty()) edit.insert(header_end, field_line(change.name, change.value));
          break;
        }
        if (dropped[*found]) break;
        dropped[*found] = true;
        if (!change.value.empty()) edit.insert(spans[*found].begin, field_line(change.name, change.value));
        edit.drop(spans[*found].begin, spans[*found].end);
        break;
      }
    }
  }
}

}  // namespace postamt::smtp
