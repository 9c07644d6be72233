#pragma once
// What the SMTP client engine needs to know before it connects, and what one outbound
// message looks like to it (the envelope; the content is streamed separately).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/smtp/esmtp_parameters.hpp"

namespace postamt::proto::smtp {

// STARTTLS use (RFC 3207).
enum class TlsPolicy : std::uint8_t {
  none,           // never STARTTLS
  opportunistic,  // STARTTLS when offered; go on in the clear when not offered or refused
  required,       // STARTTLS or fail the attempt
};

struct ClientCredentials {
  std::string user;
  std::string password;
};

struct ClientOptions {
  std::string hostname;  // the EHLO/HELO argument: our FQDN (RFC 5321 §4.1.1.1)
  TlsPolicy tls = TlsPolicy::opportunistic;
  bool tls_active = false;  // implicit TLS (port 465): the connection is already secured
  // AUTH PLAIN (RFC 4954, RFC 4616) for relay hosts. Sent only under TLS unless
  // auth_without_tls; when set and the server offers no PLAIN, the attempt fails.
  std::optional<ClientCredentials> credentials;
  bool auth_without_tls = false;
  bool use_pipelining = true;  // RFC 2920 when offered
};

struct OutboundRecipient {
  std::string address;  // mailbox without angle brackets
  DsnNotify notify;     // sent only when the server offers DSN
  std::optional<Orcpt> orcpt;
};

struct OutboundMessage {
  std::string sender;  // mailbox without angle brackets; empty for the null sender <>
  std::vector<OutboundRecipient> recipients;
  // Octets the content will have on the wire before dot-stuffing (RFC 1870 SIZE=).
  std::optional<std::uint64_t> size;
  BodyType body = BodyType::unspecified;  // BODY= only when 8BITMIME is offered
  bool smtputf8 = false;                   // SMTPUTF8 only when offered
  DsnRet ret = DsnRet::unspecified;        // RET= and ENVID= only when DSN is offered
  std::optional<std::string> envid;
};

}  // namespace postamt::proto::smtp
