#include "pop3/pop3_service.hpp"

#include "net/connection.hpp"
#include "pop3/pop3_service_state.hpp"
#include "pop3/pop3_session.hpp"

namespace postamt::pop3 {

Pop3Metrics::Pop3Metrics()
    : logins(metrics::registry().counter("postamt_pop3_logins_total", "Successful POP3 logins")),
      auth_failures(metrics::registry().counter("postamt_pop3_auth_failures_total", "Failed POP3 logins")),
      in_use(metrics::registry().counter("postamt_pop3_in_use_total",
                                         "POP3 logins refused because the maildrop was locked")),
      messages_retrieved(metrics::registry().counter("postamt_pop3_messages_retrieved_total",
                                                     "Messages sent by RETR")),
      messages_deleted(metrics::registry().counter("postamt_pop3_messages_deleted_total",
                                                   "Messages removed at QUIT")) {}

Pop3Service::Pop3Service(Pop3Dependencies dependencies)
    : state_(std::make_shared<Pop3ServiceState>(dependencies)) {}

Pop3Service::~Pop3Service() = default;

net::ProtocolBehaviour Pop3Service::behaviour(Protocol protocol, bool tls_available) {
  net::ProtocolBehaviour behaviour;
  behaviour.implicit_tls = protocol_uses_implicit_tls(protocol);
  behaviour.refusal_text = "-ERR [SYS/TEMP] Too many connections\r\n";
  behaviour.handler = [state = state_, tls_available](std::shared_ptr<net::Connection> connection) {
    return run_pop3_session(std::move(connection), state, tls_available);
  };
  return behaviour;
}

}  // namespace postamt::pop3
