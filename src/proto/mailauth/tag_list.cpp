#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {
namespace {

bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// §3.2: VALCHAR = %x21-3A / %x3C-7E (printable ASCII without ";").
bool is_valchar(char c) { return (c >= 0x21 && c <= 0x3A) || (c >= 0x3C && c <= 0x7E); }

}  // namespace

std::string_view trim_fws(std::string_view value) {
  while (!value.empty() && is_fws(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_fws(value.back())) value.remove_suffix(1);
  return value;
}

Result<std::vector<Tag>> parse_tag_list(std::string_view text) {
  std::vector<Tag> tags;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view spec = text.substr(pos, end - pos);
    const std::string_view trimmed = trim_fws(spec);
    if (trimmed.empty()) {
      // Only the last spec may be empty (a trailing ";", or an empty list).
      if (end != text.size() && end + 1 <= text.size() && !trim_fws(text.substr(end + 1)).empty()) {
        return permanent_error("empty tag-spec");
      }
      break;
    }
    const std::size_t equals = trimmed.find('=');
    if (equals == std::string_view::npos) return permanent_error("tag-spec without '='");
    const std::string_view name = trim_fws(trimmed.substr(0, equals));
    const std::string_view value = trim_fws(trimmed.substr(equals + 1));
    // tag-name = ALPHA *ALNUMPUNC
    if (name.empty() || !is_alpha(name.front())) return permanent_error("bad tag name");
    for (char c : name) {
      if (!is_alpha(c) && !is_digit(c) && c != '_') return permanent_error("bad tag name");
    }
    for (char c : value) {
      if (!is_valchar(c) && !is_fws(c)) return permanent_error("bad character in the value of tag " + std::string(name));
    }
    for (const auto& tag : tags) {
      if (tag.name == name) return permanent_error("duplicate tag " + std::string(name));
    }
    tags.push_back(Tag{name, value});
    if (end == text.size()) break;
    pos = end + 1;
  }
  return tags;
}

std::optional<std::string_view> find_tag(const std::vector<Tag>& tags, std::string_view name) {
  for (const auto& tag : tags) {
    if (tag.name == name) return tag.value;
  }
  return std::nullopt;
}

std::string without_whitespace(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (!is_fws(c)) out.push_back(c);
  }
  return out;
}

std::vector<std::string_view> split_trimmed(std::string_view value, char separator) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = value.find(separator, pos);
    parts.push_back(trim_fws(value.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos)));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return parts;
}

}  // namespace postamt::mailauth
