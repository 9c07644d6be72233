#include "proto/smtp/client_commands.hpp"

#include "base/base64.hpp"
#include "proto/smtp/xtext.hpp"

namespace postamt::proto::smtp {

bool safe_path_text(std::string_view text) {
  for (char c : text) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet < 0x20 || octet == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

bool safe_message_envelope(const OutboundMessage& message) {
  if (!safe_path_text(message.sender)) return false;
  for (const auto& recipient : message.recipients) {
    if (recipient.address.empty() || !safe_path_text(recipient.address)) return false;
    if (recipient.orcpt) {
      // addr-type is an atom (RFC 3461 §4.2): no SP, no "=" or ";".
      for (char c : recipient.orcpt->address_type) {
        const auto octet = static_cast<unsigned char>(c);
        if (octet <= 0x20 || octet >= 0x7f || c == '=' || c == ';') return false;
      }
    }
  }
  return true;
}

std::string mail_command(const OutboundMessage& message, const ServerCapabilities& server) {
  std::string line = "MAIL FROM:<" + message.sender + ">";
  if (server.size && message.size) line += " SIZE=" + std::to_string(*message.size);  // RFC 1870 §6
  if (server.eight_bit_mime) {  // RFC 6152 §3
    if (message.body == BodyType::eight_bit_mime) line += " BODY=8BITMIME";
    if (message.body == BodyType::seven_bit) line += " BODY=7BIT";
  }
  if (server.smtputf8 && message.smtputf8) line += " SMTPUTF8";  // RFC 6531 §3.4
  if (server.dsn) {  // RFC 3461 §4.3, §4.4
    if (message.ret == DsnRet::full) line += " RET=FULL";
    if (message.ret == DsnRet::headers) line += " RET=HDRS";
    if (message.envid) line += " ENVID=" + encode_xtext(*message.envid);
  }
  line += "\r\n";
  return line;
}

std::string rcpt_command(const OutboundRecipient& recipient, const ServerCapabilities& server) {
  std::string line = "RCPT TO:<" + recipient.address + ">";
  if (server.dsn) {
    const DsnNotify& notify = recipient.notify;
    if (notify.never) {  // RFC 3461 §4.1: NEVER stands alone
      line += " NOTIFY=NEVER";
    } else if (notify.specified()) {
      std::string list;
      if (notify.success) list += "SUCCESS";
      if (notify.failure) list += list.empty() ? "FAILURE" : ",FAILURE";
      if (notify.delay) list += list.empty() ? "DELAY" : ",DELAY";
      line += " NOTIFY=" + list;
    }
    if (recipient.orcpt) {
      line += " ORCPT=" + recipient.orcpt->address_type + ";" +
              encode_xtext(recipient.orcpt->address);
    }
  }
  line += "\r\n";
  return line;
}

std::string auth_plain_command(const ClientCredentials& credentials) {
  std::string message;
  message.push_back('\0');
  message += credentials.user;
  message.push_back('\0');
  message += credentials.password;
  return "AUTH PLAIN " + base64_encode(message) + "\r\n";
}

}  // namespace postamt::proto::smtp
