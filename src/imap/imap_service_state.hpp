#pragma once
// Shared by the IMAP sessions of one server (internal to imap/).
#include "auth/authenticator.hpp"
#include "base/config.hpp"
#include "base/metrics.hpp"
#include "imap/change_signal.hpp"
#include "imap/imap_service.hpp"
#include "net/blocking_pool.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::imap {

struct ImapMetrics {
  metrics::Counter& logins;
  metrics::Counter& auth_failures;
  metrics::Counter& commands;
  metrics::Counter& appends;
  metrics::Gauge& idling;

  ImapMetrics();
};

struct ImapServiceState {
  ImapDependencies deps;
  MailboxWatchers watchers;
  ImapMetrics metrics;

  explicit ImapServiceState(ImapDependencies dependencies) : deps(dependencies) {}
};

}  // namespace postamt::imap
