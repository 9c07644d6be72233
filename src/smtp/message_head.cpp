#include "smtp/message_head.hpp"

#include "mime/address_list.hpp"
#include "mime/header_fields.hpp"

namespace postamt::smtp {
namespace {

bool name_is(std::string_view field_name, std::string_view wanted) {
  if (field_name.size() != wanted.size()) return false;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    char c = field_name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != wanted[i]) return false;
  }
  return true;
}

void take_field(std::string_view field, MessageHead& out) {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos) return;
  // RFC 5322 §3.6.8 allows no white space before the colon; RFC 822 did ("From :").
  const std::string_view name = mime::trim_white_space(field.substr(0, colon));
  const std::string_view raw = field.substr(colon + 1);
  if (name_is(name, "received")) {
    ++out.received_fields;
  } else if (name_is(name, "from")) {
    ++out.from_fields;
    for (const auto& address : mime::parse_address_list(mime::unfold(raw))) {
      if (!address.host) continue;  // group syntax markers carry no address
      const std::string host = *address.host == mime::kMissingDomain ? "" : *address.host;
      out.from_addresses.push_back(address.mailbox.value_or("") + "@" + host);
    }
  } else if (name_is(name, "message-id") && out.message_id.empty()) {
    out.message_id = std::string(mime::trim_white_space(mime::unfold(raw)));
  }
}

}  // namespace

MessageHead read_message_head(std::string_view head, bool whole_message) {
  MessageHead out;
  std::size_t pos = 0;
  std::size_t field_start = std::string_view::npos;
  while (pos < head.size()) {
    const auto end = head.find('\n', pos);
    if (end == std::string_view::npos) break;  // a line the head cut: the header goes on
    std::string_view line = head.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool continuation = !line.empty() && (line.front() == ' ' || line.front() == '\t');
    if (!continuation && field_start != std::string_view::npos) {
      take_field(head.substr(field_start, pos - field_start), out);
      field_start = std::string_view::npos;
    }
    if (line.empty()) {
      out.complete = true;
      return out;
    }
    if (!continuation) field_start = pos;
    pos = end + 1;
  }
  if (whole_message) {
    // A message of header fields only (no empty line, no body) ends with its last field.
    if (field_start != std::string_view::npos) take_field(head.substr(field_start, pos - field_start), out);
    out.complete = pos == head.size();
    return out;
  }
  // The head ended inside the header: what was complete still counts (a loop shows in
  // its first fields), the field it cut does not.
  return out;
}

}  // namespace postamt::smtp
