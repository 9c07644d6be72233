#pragma once
// Shared by the IMAP sessions of one server (internal to imap/).
#include "auth/authenticator.hpp"
#include "base/config.hpp"
#include "base/metrics.hpp"
#include "imap/change_signal.hpp"
#include "imap/header_cache.hpp"
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
  // Top-level headers read lately (SEARCH HEADER, header-only FETCH), 32 MiB at most.
  HeaderCache headers{32u << 20};

  explicit ImapServiceState(ImapDependencies dependencies) : deps(dependencies) {}
};

}  // namespace postamt::imap
