#include "mime/header_fields.hpp"

#include <utility>

#include "mime/ascii_case.hpp"

namespace postamt::mime {

namespace {

constexpr std::array<std::pair<std::string_view, HeaderName>, kHeaderNameCount> kNames{{
    {"date", HeaderName::date},
    {"subject", HeaderName::subject},
    {"from", HeaderName::from},
    {"sender", HeaderName::sender},
    {"reply-to", HeaderName::reply_to},
    {"to", HeaderName::to},
    {"cc", HeaderName::cc},
    {"bcc", HeaderName::bcc},
    {"in-reply-to", HeaderName::in_reply_to},
    {"message-id", HeaderName::message_id},
    {"content-type", HeaderName::content_type},
    {"content-transfer-encoding", HeaderName::content_transfer_encoding},
    {"content-id", HeaderName::content_id},
    {"content-description", HeaderName::content_description},
    {"content-disposition", HeaderName::content_disposition},
    {"content-language", HeaderName::content_language},
    {"content-location", HeaderName::content_location},
    {"content-md5", HeaderName::content_md5},
}};

bool is_white_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

void HeaderFields::add(std::string_view name, std::string_view raw_value) {
  for (const auto& [known, id] : kNames) {
    if (ascii_iequals(name, known)) {
      auto& slot = fields_[static_cast<std::size_t>(id)];
      if (!slot) slot = raw_value;
      return;
    }
  }
}

std::optional<std::string_view> HeaderFields::raw(HeaderName name) const {
  return fields_[static_cast<std::size_t>(name)];
}

std::optional<std::string> HeaderFields::value(HeaderName name) const {
  const auto field = raw(name);
  if (!field) return std::nullopt;
  return std::string(trim_white_space(unfold(*field)));
}

std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') continue;  // the LF decides
    if (c == '\n') continue;
    out.push_back(c);
  }
  return out;
}

std::string_view trim_white_space(std::string_view s) {
  while (!s.empty() && is_white_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_white_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace postamt::mime
