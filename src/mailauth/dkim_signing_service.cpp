#include "mailauth/dkim_signing_service.hpp"

#include <ctime>

#include "base/log.hpp"
#include "mailauth/dkim_key_store.hpp"
#include "mailauth/dkim_signer.hpp"
#include "proto/mailauth/dkim_signature.hpp"

namespace postamt::mailauth {

DkimSigningService::DkimSigningService(std::filesystem::path data_dir) : data_dir_(std::move(data_dir)) {}
DkimSigningService::~DkimSigningService() = default;

Result<std::size_t> DkimSigningService::load() {
  auto loaded = DkimKeyStore(data_dir_).load_signer();
  if (!loaded) return std::unexpected(loaded.error());
  const std::size_t count = loaded->key_count();
  auto signer = std::make_shared<const DkimSigner>(std::move(*loaded));
  std::lock_guard lock(mutex_);
  signer_ = std::move(signer);
  return count;
}

std::shared_ptr<const DkimSigner> DkimSigningService::current() const {
  std::lock_guard lock(mutex_);
  return signer_;
}

namespace {

std::string nearest_signing_domain(const DkimSigner& signer, std::string_view domain) {
  std::string candidate = to_lower_ascii(domain);
  while (!candidate.empty()) {
    if (signer.signs_for(candidate)) return candidate;
    const std::size_t dot = candidate.find('.');
    // Stop before a bare top-level name: keys are per registered domain or below.
    if (dot == std::string::npos || candidate.find('.', dot + 1) == std::string::npos) break;
    candidate.erase(0, dot + 1);
  }
  return {};
}

}  // namespace

std::string DkimSigningService::signing_domain(std::string_view author_domain) const {
  const auto signer = current();
  return signer ? nearest_signing_domain(*signer, author_domain) : std::string();
}

std::string DkimSigningService::sign(std::string_view message, std::string_view author_domain) const {
  const auto signer = current();
  if (!signer) return {};
  const std::string domain = nearest_signing_domain(*signer, author_domain);
  if (domain.empty()) return {};
  auto fields = signer->sign(message, domain, static_cast<std::uint64_t>(std::time(nullptr)));
  if (!fields) {
    log::warn("dkim.sign_failed", {{"domain", domain}, {"error", fields.error().message}});
    return {};
  }
  return std::move(*fields);
}

}  // namespace postamt::mailauth
