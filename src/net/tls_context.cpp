#include "net/tls_context.hpp"

#include <asio/ip/address.hpp>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

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
    // The certificate's directory is as public as the certificate (the key in it stays
    // 0600): under umask 077 it would be 0700, and a service user could not re-read the
    // pair on SIGHUP after the privilege drop.
    for (const auto& dir : {config_.cert.parent_path(), config_.key.parent_path()}) {
      if (dir.empty() || std::filesystem::exists(dir, ec)) continue;
      std::filesystem::create_directories(dir, ec);
      std::filesystem::permissions(dir, std::filesystem::perms(0755), ec);
    }
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

namespace postamt::net {
namespace {

std::string subject_of(X509* certificate) {
  if (certificate == nullptr) return {};
  char name[256] = {};
  X509_NAME_oneline(X509_get_subject_name(certificate), name, sizeof name);
  return name;
}

std::string sha256_hex(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (certificate == nullptr || X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

// Chain verification failures are logged where OpenSSL knows the reason; the handshake
// error itself only says "certificate verify failed".
int log_verify_failure(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1) {
    log::warn("tls.peer_unverified", {{"error", X509_verify_cert_error_string(X509_STORE_CTX_get_error(store))},
                                      {"depth", X509_STORE_CTX_get_error_depth(store)},
                                      {"subject", subject_of(X509_STORE_CTX_get_current_cert(store))}});
  }
  return preverify_ok;
}

// A context that accepts exactly one certificate, by its SHA-256 fingerprint.
struct PinnedContext {
  asio::ssl::context context{asio::ssl::context::tls_client};
  std::string fingerprint;
};

int verify_pin(X509_STORE_CTX* store, void* argument) {
  const auto* pinned = static_cast<const PinnedContext*>(argument);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  const std::string seen = sha256_hex(leaf);
  if (!seen.empty() && CRYPTO_memcmp(seen.data(), pinned->fingerprint.data(), seen.size()) == 0 &&
      seen.size() == pinned->fingerprint.size()) {
    return 1;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  log::warn("tls.peer_unverified", {{"error", "certificate fingerprint does not match the pinned one"},
                                    {"sha256", seen},
                                    {"subject", subject_of(leaf)}});
  return 0;
}

void set_client_defaults(asio::ssl::context& context) {
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_client_context(const std::optional<PeerVerification>& verification) {
  if (!verification) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    set_client_defaults(*context);
    context->set_verify_mode(asio::ssl::verify_none);  // RFC 7435: encrypt, do not authenticate
    return context;
  }
  if (!verification->sha256_fingerprint.empty()) {
    auto pinned = std::make_shared<PinnedContext>();
    pinned->fingerprint = verification->sha256_fingerprint;
    set_client_defaults(pinned->context);
    SSL_CTX* native = pinned->context.native_handle();
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(native, verify_pin, pinned.get());
    // The context lives as long as the holder that owns the pin it points to.
    return std::shared_ptr<asio::ssl::context>(pinned, &pinned->context);
  }
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  set_client_defaults(*context);
  asio::error_code ec;
  if (verification->ca_file) {
    context->load_verify_file(verification->ca_file->string(), ec);
    if (ec) return permanent_error("CA file " + verification->ca_file->string() + ": " + ec.message());
  } else {
    context->set_default_verify_paths(ec);
    if (ec) return permanent_error("the system CA store: " + ec.message());
  }
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, log_verify_failure);
  // RFC 6125: the certificate must name the host we connect to (an IP literal: its
  // address); no partial wildcards such as "m*.example.com".
  X509_VERIFY_PARAM* parameters = SSL_CTX_get0_param(native);
  X509_VERIFY_PARAM_set_hostflags(parameters, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  asio::error_code not_an_address;
  (void)asio::ip::make_address(verification->host, not_an_address);
  const int named = not_an_address ? X509_VERIFY_PARAM_set1_host(parameters, verification->host.c_str(), 0)
                                   : X509_VERIFY_PARAM_set1_ip_asc(parameters, verification->host.c_str());
  if (named != 1) return permanent_error("cannot check certificates for " + verification->host);
  return context;
}

}  // namespace postamt::net
