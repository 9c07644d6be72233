#pragma once
// TLS server contexts built from the configured certificate and key. SIGHUP calls
// reload(); connections already running keep the context they started with.
#include <asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "base/config.hpp"
#include "base/result.hpp"

namespace postamt::net {

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
