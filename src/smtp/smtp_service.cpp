#include "smtp/smtp_service.hpp"

#include <chrono>
#include <cstdio>

#include "net/connection.hpp"
#include "smtp/smtp_service_state.hpp"
#include "smtp/smtp_session.hpp"

namespace postamt::smtp {

SmtpMetrics::SmtpMetrics()
    : messages_accepted(metrics::registry().counter("postamt_smtp_messages_total", "Messages by outcome",
                                                    {{"result", "accepted"}})),
      messages_failed(metrics::registry().counter("postamt_smtp_messages_total", "Messages by outcome",
                                                  {{"result", "storage_failure"}})),
      messages_aborted(metrics::registry().counter("postamt_smtp_messages_total", "Messages by outcome",
                                                   {{"result", "aborted"}})),
      bytes_accepted(metrics::registry().counter("postamt_smtp_bytes_accepted_total",
                                                 "Octets of accepted messages, trace headers included")),
      recipients_accepted(metrics::registry().counter("postamt_smtp_recipients_total", "Recipients by outcome",
                                                      {{"result", "accepted"}})),
      recipients_unknown(metrics::registry().counter("postamt_smtp_recipients_total", "Recipients by outcome",
                                                     {{"result", "unknown_user"}})),
      recipients_relay_denied(metrics::registry().counter("postamt_smtp_recipients_total",
                                                          "Recipients by outcome", {{"result", "relay_denied"}})),
      senders_refused(metrics::registry().counter("postamt_smtp_senders_refused_total",
                                                  "MAIL FROM refused on submission: not the user's address")),
      auth_failures(metrics::registry().counter("postamt_smtp_auth_failures_total", "Failed SMTP AUTH attempts")),
      delivery_seconds(metrics::registry().histogram("postamt_smtp_delivery_seconds",
                                                     "End of DATA to durable storage",
                                                     metrics::latency_buckets())) {}

std::string SmtpServiceState::new_transaction_id() {
  // Seconds since the epoch and a per-process counter, both in hex: sortable and unique
  // for this server.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%llx%06llx",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::seconds>(now).count()),
                static_cast<unsigned long long>(next_transaction.fetch_add(1) & 0xffffff));
  return std::string(buffer);
}

SmtpService::SmtpService(SmtpDependencies dependencies)
    : state_(std::make_shared<SmtpServiceState>(dependencies)) {}

SmtpService::~SmtpService() = default;

net::ProtocolBehaviour SmtpService::behaviour(Protocol protocol, bool tls_available) {
  net::ProtocolBehaviour behaviour;
  behaviour.implicit_tls = protocol_uses_implicit_tls(protocol);
  behaviour.refusal_text = "421 4.7.0 " + state_->deps.config.server.hostname +
                           " Too many connections, try again later\r\n";
  SmtpRole role{protocol, tls_available};
  behaviour.handler = [state = state_, role](std::shared_ptr<net::Connection> connection) {
    return run_smtp_session(std::move(connection), state, role);
  };
  return behaviour;
}

}  // namespace postamt::smtp
