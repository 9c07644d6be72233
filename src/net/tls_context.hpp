#pragma once
// TLS server contexts built from the configured certificate and key. SIGHUP calls
// reload(); connections already running keep the context they started with.
#include <asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/config.hpp"
#include "base/result.hpp"

namespace postamt::net {

// How an outbound STARTTLS peer is authenticated.
struct PeerVerification {
  std::string host;  // the name (or IP literal) its certificate must carry
  std::optional<std::filesystem::path> ca_file;  // trust anchors; default: the system store
  // 64 lower-case hex digits: instead of a CA and the name, accept exactly the
  // certificate with this SHA-256 fingerprint (a self-signed relay host).
  std::string sha256_fingerprint;
};

// A client context for outbound STARTTLS (TLS 1.2 or later). Without `verification` the
// peer is not authenticated: RFC 7435 opportunistic security for MX hosts, whose
// certificates rarely match their names (refusing would send the mail in clear). With
// it, a peer whose certificate fails the check fails the handshake (and says why in the
// log). Errors: an unreadable CA file or store.
Result<std::shared_ptr<asio::ssl::context>> make_client_context(const std::optional<PeerVerification>& verification);

class TlsContextProvider {
 public:
  explicit TlsContextProvider(TlsConfig config);

  // Loads (or, with tls.self_signed and absent files, first creates) the pair.
  Result<void> load(const std::string& hostname);
  // Re-reads the files; on failure the previous context stays in use.
  Result<void> reload();

  // nullptr when no certificate is available (TLS listeners then cannot start).
  std::shared_ptr<asio::ssl::context> current() const;

 private:
  Result<std::shared_ptr<asio::ssl::context>> build() const;

  TlsConfig config_;
  mutable std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> context_;
};

}  // namespace postamt::net
