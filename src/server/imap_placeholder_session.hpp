#pragma once
// The session the imap and imaps listeners run until the IMAP server lands (issue 5). It
// speaks IMAP's framing honestly: the greeting, CAPABILITY, NOOP, STARTTLS, LOGOUT, and
// `tag BAD` for every other command, over the same network layer the real engine will
// use (bounded lines, idle timeouts, drains, TLS).
#include <string>

#include "net/listener.hpp"

namespace postamt::server {

net::ProtocolBehaviour imap_placeholder_behaviour(Protocol protocol, bool tls_available);

}  // namespace postamt::server
