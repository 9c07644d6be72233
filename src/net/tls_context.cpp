#include "net/tls_context.hpp"

#include <openssl/ssl.h>

#include "base/log.hpp"
#include "net/self_signed_cert.hpp"

namespace postamt::net {

TlsContextProvider::TlsContextProvider(TlsConfig config) : config_(std::move(config)) {}

Result<std::shared_ptr<asio::ssl::context>> TlsContextProvider::build() const {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  const int min_version = config_.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(native, min_version);
  // No renegotiation, no compression (CRIME), server picks the cipher order.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, config_.ciphers.c_str()) != 1) {
    return permanent_error("tls.ciphers: no usable cipher in '" + config_.ciphers + "'");
  }
  // Sessions are resumed with tickets; no server-side cache to grow.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);

  asio::error_code ec;
  context->use_certificate_chain_file(config_.cert.string(), ec);
  if (ec) return permanent_error("tls.cert " + config_.cert.string() + ": " + ec.message());
  context->use_private_key_file(config_.key.string(), asio::ssl::context::pem, ec);
  if (ec) return permanent_error("tls.key " + config_.key.string() + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return permanent_error("tls.key does not match tls.cert");
  }
  return context;
}

Result<void> TlsContextProvider::load(const std::string& hostname) {
  std::error_code ec;
  const bool cert_present = std::filesystem::exists(config_.cert, ec);
  const bool key_present = std::filesystem::exists(config_.key, ec);
  if (config_.self_signed && !cert_present && !key_present) {
    auto written = write_self_signed_certificate(config_.cert, config_.key, hostname);
    if (!written) return written;
    log::warn("tls.self_signed_created", {{"cert", config_.cert.string()}, {"hostname", hostname}});
  }
  return reload();
}

Result<void> TlsContextProvider::reload() {
  auto built = build();
  if (!built) return std::unexpected(built.error());
  std::lock_guard lock(mutex_);
  context_ = std::move(*built);
  return {};
}

std::shared_ptr<asio::ssl::context> TlsContextProvider::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

}  // namespace postamt::net
