#pragma once
// Shared by the SMTP sessions of one server (internal to smtp/).
#include <atomic>
#include <string>

#include "auth/authenticator.hpp"
#include "base/config.hpp"
#include "base/metrics.hpp"
#include "delivery/group_committer.hpp"
#include "delivery/message_preparer.hpp"
#include "net/blocking_pool.hpp"
#include "net/ip_network.hpp"
#include "smtp/smtp_service.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::smtp {

struct SmtpMetrics {
  metrics::Counter& messages_accepted;
  metrics::Counter& messages_failed;          // stored nothing: storage failure (4xx)
  metrics::Counter& messages_aborted;         // too big, bare line ends, NUL, long lines
  metrics::Counter& bytes_accepted;
  metrics::Counter& recipients_accepted;
  metrics::Counter& recipients_unknown;
  metrics::Counter& recipients_relay_denied;
  metrics::Counter& senders_refused;
  metrics::Counter& auth_failures;
  metrics::Histogram& delivery_seconds;

  SmtpMetrics();
};

struct SmtpServiceState {
  SmtpDependencies deps;
  net::IpNetworkList relay_networks;
  delivery::MessagePreparer preparer;
  SmtpMetrics metrics;
  std::atomic<std::uint64_t> next_transaction{0};

  explicit SmtpServiceState(SmtpDependencies dependencies)
      : deps(dependencies),
        relay_networks(dependencies.config.smtp.relay_networks),
        preparer(dependencies.store, dependencies.blobs, dependencies.committer.blob_durability()) {}

  // A short, unique, log-friendly id for one transaction (Received "id", 250 reply).
  std::string new_transaction_id();
};

}  // namespace postamt::smtp
