#pragma once
// Shared by the POP3 sessions of one server (internal to pop3/).
#include "auth/authenticator.hpp"
#include "base/config.hpp"
#include "base/metrics.hpp"
#include "net/blocking_pool.hpp"
#include "pop3/maildrop_locks.hpp"
#include "pop3/pop3_service.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::pop3 {

struct Pop3Metrics {
  metrics::Counter& logins;
  metrics::Counter& auth_failures;
  metrics::Counter& in_use;
  metrics::Counter& messages_retrieved;
  metrics::Counter& messages_deleted;

  Pop3Metrics();
};

struct Pop3ServiceState {
  Pop3Dependencies deps;
  MaildropLocks locks;
  Pop3Metrics metrics;

  explicit Pop3ServiceState(Pop3Dependencies dependencies) : deps(dependencies) {}
};

}  // namespace postamt::pop3
