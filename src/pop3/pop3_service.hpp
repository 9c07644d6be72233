#pragma once
// Pop3Service: what every POP3 session of the server shares — the store, the blob files,
// the storage pool, the authenticator and the maildrop locks — and the listener
// behaviour for pop3 (port 110, STLS) and pop3s (port 995, implicit TLS).
#include <memory>

#include "base/config.hpp"
#include "net/listener.hpp"

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

namespace postamt::pop3 {

struct Pop3Dependencies {
  const Config& config;
  storage::MailStore& store;
  storage::BlobStore& blobs;
  net::BlockingPool& pool;
  auth::Authenticator& authenticator;
};

class Pop3Service {
 public:
  explicit Pop3Service(Pop3Dependencies dependencies);
  ~Pop3Service();

  // For protocol pop3 or pop3s.
  net::ProtocolBehaviour behaviour(Protocol protocol, bool tls_available);

 private:
  std::shared_ptr<struct Pop3ServiceState> state_;
};

}  // namespace postamt::pop3
