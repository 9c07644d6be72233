#include "mailauth/sha256_sink.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace postamt::mailauth {

void Sha256Sink::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256Sink::Sha256Sink() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

Sha256Sink::~Sha256Sink() = default;

void Sha256Sink::update(std::string_view bytes) {
  if (!bytes.empty()) EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
}

std::string Sha256Sink::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string sha256(std::string_view bytes) {
  Sha256Sink sink;
  sink.update(bytes);
  return sink.finish();
}

}  // namespace postamt::mailauth
