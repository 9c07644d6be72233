#pragma once
// The command lines the SMTP client sends (RFC 5321 §4.1.1), with the parameters of the
// extensions the server announced. Every function returns the line with its CRLF.
#include <string>
#include <string_view>

#include "proto/smtp/client_capabilities.hpp"
#include "proto/smtp/client_options.hpp"

namespace postamt::proto::smtp {

// True when the text can go into a command line: no control octets (CR, LF, NUL, ...),
// no '<' or '>' that would end the path early. Anything else (UTF-8 too) is left to the
// server to judge.
bool safe_path_text(std::string_view text);
bool safe_message_envelope(const OutboundMessage& message);

// MAIL FROM:<sender> [SIZE=n] [BODY=..] [SMTPUTF8] [RET=..] [ENVID=..]
std::string mail_command(const OutboundMessage& message, const ServerCapabilities& server);
// RCPT TO:<address> [NOTIFY=..] [ORCPT=type;xtext]
std::string rcpt_command(const OutboundRecipient& recipient, const ServerCapabilities& server);
// AUTH PLAIN <base64(authzid NUL authcid NUL password)> with an empty authzid (RFC 4616).
std::string auth_plain_command(const ClientCredentials& credentials);

}  // namespace postamt::proto::smtp
