#pragma once
// ImapService: what every IMAP session of the server shares — the store, the blob files,
// the storage pool, the authenticator and the mailbox watchers that carry one session's
// changes to the others — and the listener behaviour for imap (port 143, STARTTLS) and
// imaps (port 993, implicit TLS).
#include <memory>
#include <span>

#include "base/config.hpp"
#include "net/listener.hpp"
#include "storage/api/types.hpp"

namespace postamt {
namespace storage {
class MailStore;
class BlobStore;
}  // namespace storage
namespace net {
class BlockingPool;
}
namespace auth {
class Authenticator;
}
}  // namespace postamt

namespace postamt::imap {

class JunkTrainer;

struct ImapDependencies {
  const Config& config;
  storage::MailStore& store;
  storage::BlobStore& blobs;
  net::BlockingPool& pool;
  auth::Authenticator& authenticator;
  // Told of messages moved or copied into and out of Junk (imap/junk_trainer.hpp); none: no learning.
  JunkTrainer* junk_trainer = nullptr;
};

class ImapService {
 public:
  explicit ImapService(ImapDependencies dependencies);
  ~ImapService();

  // For protocol imap or imaps.
  net::ProtocolBehaviour behaviour(Protocol protocol, bool tls_available);

  // The store's change listener: wakes the sessions that have these mailboxes selected.
  void mailboxes_changed(std::span<const storage::Id> mailbox_ids);

 private:
  std::shared_ptr<struct ImapServiceState> state_;
};

}  // namespace postamt::imap
