#include "imap/imap_service.hpp"

#include "imap/imap_service_state.hpp"
#include "imap/session.hpp"
#include "net/connection.hpp"

namespace postamt::imap {

ImapMetrics::ImapMetrics()
    : logins(metrics::registry().counter("postamt_imap_logins_total", "Successful IMAP logins")),
      auth_failures(metrics::registry().counter("postamt_imap_auth_failures_total", "Failed IMAP logins")),
      commands(metrics::registry().counter("postamt_imap_commands_total", "IMAP commands handled")),
      appends(metrics::registry().counter("postamt_imap_appends_total", "Messages stored by APPEND")),
      idling(metrics::registry().gauge("postamt_imap_idle_sessions", "IMAP sessions in IDLE")) {}

ImapService::ImapService(ImapDependencies dependencies)
    : state_(std::make_shared<ImapServiceState>(dependencies)) {}

ImapService::~ImapService() = default;

net::ProtocolBehaviour ImapService::behaviour(Protocol protocol, bool tls_available) {
  net::ProtocolBehaviour behaviour;
  behaviour.implicit_tls = protocol_uses_implicit_tls(protocol);
  behaviour.refusal_text = "* BYE [UNAVAILABLE] Too many connections\r\n";
  behaviour.handler = [state = state_, tls_available](std::shared_ptr<net::Connection> connection) {
    return run_imap_session(std::move(connection), state, tls_available);
  };
  return behaviour;
}

void ImapService::mailboxes_changed(std::span<const storage::Id> mailbox_ids) {
  state_->watchers.mailboxes_changed(mailbox_ids);
}

}  // namespace postamt::imap
