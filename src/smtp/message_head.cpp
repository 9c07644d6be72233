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
    auto end = head.find('\n', pos);
    if (end == std::string_view::npos) {
      if (!whole_message) {
        // A line the head cut: the header goes on. The field before it is whole unless
        // the cut line continues it.
        const bool continues = head[pos] == ' ' || head[pos] == '\t';
        if (field_start != std::string_view::npos && !continues)
          take_field(head.substr(field_start, pos - field_start), out);
        return out;
      }
      end = head.size();  // the message's last line, without a line end (BDAT)
    }
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
  // The head ended at a line end. A whole message of header fields only (no empty line,
  // no body) ends with its last field; a cut head may still have continuation lines of
  // it to come, so what was complete counts (a loop shows in its first fields) and that
  // field does not.
  if (whole_message) {
    if (field_start != std::string_view::npos) take_field(head.substr(field_start), out);
    out.complete = true;
  }
  return out;
}

}  // namespace postamt::smtp
