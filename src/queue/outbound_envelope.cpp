#include "queue/outbound_envelope.hpp"

#include <algorithm>

namespace postamt::queue {
namespace {

bool has_8bit(std::string_view text) {
  return std::ranges::any_of(text, [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// The stored NOTIFY text is what the SMTP server wrote: "NEVER" or a comma list.
proto::smtp::DsnNotify parse_notify(std::string_view text) {
  proto::smtp::DsnNotify notify;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view word = text.substr(0, comma);
    if (word == "NEVER") notify.never = true;
    if (word == "SUCCESS") notify.success = true;
    if (word == "FAILURE") notify.failure = true;
    if (word == "DELAY") notify.delay = true;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return notify;
}

// Stored as "type;address" (RFC 3461 §4.2, xtext already decoded).
std::optional<proto::smtp::Orcpt> parse_orcpt(std::string_view text) {
  const auto semicolon = text.find(';');
  if (semicolon == std::string_view::npos || semicolon == 0) return std::nullopt;
  return proto::smtp::Orcpt{std::string(text.substr(0, semicolon)), std::string(text.substr(semicolon + 1))};
}

}  // namespace

ContentNeeds content_needs(std::string_view content) {
  ContentNeeds needs;
  // The header ends at the first empty line (RFC 5322 §2.1).
  std::size_t header_end = content.find("\r\n\r\n");
  header_end = header_end == std::string_view::npos ? content.size() : header_end + 2;
  needs.utf8_headers = has_8bit(content.substr(0, header_end));
  needs.eight_bit_body = has_8bit(content.substr(header_end));
  return needs;
}

std::size_t local_trace_prefix(std::string_view content) {
  constexpr std::string_view kField = "Return-Path:";
  if (content.size() < kField.size() || content.substr(0, kField.size()) != kField) return 0;
  const auto end = content.find("\r\n");
  // A folded Return-Path is not one we wrote: leave it to the receiving side.
  if (end == std::string_view::npos || (end + 2 < content.size() && (content[end + 2] == ' ' || content[end + 2] == '\t'))) {
    return 0;
  }
  return end + 2;
}

bool needs_smtputf8_envelope(const storage::QueueMessage& message) {
  if (has_8bit(message.sender)) return true;
  return std::ranges::any_of(message.recipients, [](const auto& r) { return has_8bit(r.address); });
}

proto::smtp::OutboundMessage outbound_message(const storage::QueueMessage& message,
                                              std::uint64_t content_size, const ContentNeeds& needs) {
  proto::smtp::OutboundMessage out;
  out.sender = message.sender;
  for (const storage::QueueRecipient& recipient : message.recipients) {
    out.recipients.push_back({recipient.address, parse_notify(recipient.notify), parse_orcpt(recipient.orcpt)});
  }
  out.size = content_size;
  out.body = needs.eight_bit_body || needs.utf8_headers ? proto::smtp::BodyType::eight_bit_mime
                                                       : proto::smtp::BodyType::unspecified;
  out.smtputf8 = needs.utf8_headers || needs_smtputf8_envelope(message);
  if (message.ret == "FULL") out.ret = proto::smtp::DsnRet::full;
  if (message.ret == "HDRS") out.ret = proto::smtp::DsnRet::headers;
  if (!message.envid.empty()) out.envid = message.envid;
  return out;
}

}  // namespace postamt::queue
