#pragma once
// The session every mail listener runs until its protocol engine lands (SMTP: issue 3,
// IMAP: issue 5, POP3: issue 6). It speaks the protocol's framing honestly: the greeting,
// STARTTLS/STLS, NOOP, CAPABILITY/CAPA, QUIT/LOGOUT, and for every other command the
// protocol's "not implemented" reply. It exercises the network layer the engines will
// use: bounded lines, idle timeouts, drains, TLS.
#include <memory>
#include <string>

#include "net/listener.hpp"

namespace postamt::server {

net::ProtocolBehaviour line_protocol_behaviour(Protocol protocol, std::string hostname,
                                               bool tls_available);

}  // namespace postamt::server
