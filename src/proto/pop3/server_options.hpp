#pragma once
// What a POP3 server engine is configured with.
#include <cstddef>
#include <string>

namespace postamt::proto::pop3 {

struct ServerOptions {
  std::string greeting = "Postamt ready";  // after "+OK "
  std::string implementation = "Postamt";  // CAPA IMPLEMENTATION (RFC 2449 §6.9)
  bool tls_active = false;                 // implicit TLS (pop3s) or after STLS
  bool starttls_available = false;         // a certificate is loaded: offer STLS
  // USER/PASS and AUTH may be used now: over TLS, or when plaintext is allowed.
  bool auth_allowed = false;
  unsigned max_errors = 10;  // protocol errors before "-ERR Too many errors" and close
  // The bound on one SASL line (AUTH with an initial response, or a response to "+ ");
  // every other command line is bounded by RFC 2449 §4's 255 octets.
  std::size_t max_sasl_line = 8192;
  // While this much output waits for the driver, no further command is taken: pipelined
  // commands (2,730 UIDLs in one write) wait in the input instead of piling up answers.
  std::size_t max_output_backlog = 256 * 1024;
};

}  // namespace postamt::proto::pop3
