#pragma once
// SmtpService: what every SMTP session of the server shares — the store, the blob files,
// the storage pool, the group committer, the authenticator and the relay policy — and
// the listener behaviour for the three SMTP roles:
//   smtp         (port 25)  mail for local domains from anyone; relaying only for
//                           smtp.relay_networks; no AUTH
//   submission   (port 587) STARTTLS; AUTH required before MAIL
//   submissions  (port 465) the same over implicit TLS
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
namespace delivery {
class GroupCommitter;
}
namespace auth {
class Authenticator;
}
namespace mailauth {
class DkimSigningService;
class InboundChecker;
}
}  // namespace postamt

namespace postamt::filter {
class Pipeline;
}

namespace postamt::smtp {

class OutboundGuard;

struct SmtpDependencies {
  const Config& config;
  storage::MailStore& store;
  storage::BlobStore& blobs;
  net::BlockingPool& pool;
  delivery::GroupCommitter& committer;
  auth::Authenticator& authenticator;
  // Signs what local accounts submit (nullptr: no signing).
  const mailauth::DkimSigningService* dkim;
  // Checks SPF, DKIM and DMARC of mail on the smtp listener (nullptr: no checks).
  const mailauth::InboundChecker* inbound = nullptr;
  // The filters of mail on the smtp listener: DNS lists, rspamd, milters (nullptr: none).
  filter::Pipeline* filters = nullptr;
  // Per-account outbound limits and holds of submissions (nullptr: none; issue 15 §6).
  OutboundGuard* outbound_guard = nullptr;
};

class SmtpService {
 public:
  explicit SmtpService(SmtpDependencies dependencies);
  ~SmtpService();

  // For protocol smtp, submission or submissions.
  net::ProtocolBehaviour behaviour(Protocol protocol, bool tls_available);


 private:
  std::shared_ptr<struct SmtpServiceState> state_;
};

}  // namespace postamt::smtp
