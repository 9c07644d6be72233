#include "smtp/envelope_text.hpp"

namespace postamt::smtp {

namespace engine_ns = proto::smtp;

std::string notify_text(const engine_ns::DsnNotify& notify) {
  if (notify.never) return "NEVER";
  std::string out;
  auto add = [&](bool on, const char* word) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += word;
  };
  add(notify.success, "SUCCESS");
  add(notify.failure, "FAILURE");
  add(notify.delay, "DELAY");
  return out;
}

std::string ret_text(engine_ns::DsnRet ret) {
  switch (ret) {
    case engine_ns::DsnRet::full: return "FULL";
    case engine_ns::DsnRet::headers: return "HDRS";
    case engine_ns::DsnRet::unspecified: break;
  }
  return "";
}

std::string loggable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

delivery::IncomingMessage incoming_message(const proto::smtp::Envelope& envelope,
                                           const std::vector<AcceptedRecipient>& recipients,
                                           const std::vector<std::string>& mailboxes, std::time_t received_at) {
  delivery::IncomingMessage message;
  message.reverse_path = envelope.mail ? envelope.mail->reverse_path : "";
  if (envelope.mail) {
    message.envid = envelope.mail->envid.value_or("");
    message.ret = ret_text(envelope.mail->ret);
  }
  message.received_at = received_at;
  for (const auto& accepted : recipients) {
    const std::size_t index = message.recipients.size();
    message.recipients.push_back(delivery::IncomingRecipient{
        accepted.address, accepted.resolution, notify_text(accepted.rcpt.notify),
        accepted.rcpt.orcpt ? accepted.rcpt.orcpt->address_type + ";" + accepted.rcpt.orcpt->address : "",
        index < mailboxes.size() ? mailboxes[index] : ""});
  }
  return message;
}

std::string forwarding_domain(const std::vector<AcceptedRecipient>& recipients) {
  for (const auto& accepted : recipients) {
    if (!accepted.resolution.remote.empty()) return accepted.address.substr(accepted.address.rfind('@') + 1);
  }
  return {};
}

}  // namespace postamt::smtp
