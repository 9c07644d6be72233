#include "mailauth/dkim_crypto.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/base64.hpp"

namespace postamt::mailauth {
namespace {

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

void DkimPrivateKey::Free::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }
DkimPrivateKey::~DkimPrivateKey() = default;
DkimPrivateKey::DkimPrivateKey(DkimPrivateKey&&) noexcept = default;
DkimPrivateKey& DkimPrivateKey::operator=(DkimPrivateKey&&) noexcept = default;

Result<DkimPrivateKey> DkimPrivateKey::generate(DkimKeyType type) {
  EVP_PKEY* key = type == DkimKeyType::rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{kSigningRsaBits})
                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) return permanent_error("key generation failed");
  return DkimPrivateKey(std::unique_ptr<evp_pkey_st, Free>(key), type);
}

Result<DkimPrivateKey> DkimPrivateKey::from_pem(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return permanent_error("out of memory");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return permanent_error("not a PEM private key");
  std::unique_ptr<evp_pkey_st, Free> owned(key);
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < kMinimumRsaBits) return permanent_error("RSA key shorter than 1024 bits");
    return DkimPrivateKey(std::move(owned), DkimKeyType::rsa);
  }
  if (EVP_PKEY_is_a(key, "ED25519")) return DkimPrivateKey(std::move(owned), DkimKeyType::ed25519);
  return permanent_error("neither an RSA nor an Ed25519 key");
}

std::string DkimPrivateKey::private_pem() const {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string DkimPrivateKey::public_key_base64() const {
  if (type_ == DkimKeyType::ed25519) {
    unsigned char raw[32];
    std::size_t length = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &length) != 1) return {};
    return base64_encode(std::string_view(reinterpret_cast<const char*>(raw), length));
  }
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key_.get(), &der);
  if (length <= 0) return {};
  std::string out = base64_encode(std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return out;
}

std::string DkimPrivateKey::key_record() const {
  return std::string("v=DKIM1; k=") + (type_ == DkimKeyType::rsa ? "rsa" : "ed25519") + "; p=" + public_key_base64();
}

Result<std::string> DkimPrivateKey::sign_digest(std::string_view header_digest) const {
  std::string signature;
  if (type_ == DkimKeyType::rsa) {
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    std::size_t length = 0;
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
        EVP_PKEY_sign(ctx.get(), nullptr, &length, bytes(header_digest), header_digest.size()) != 1) {
      return permanent_error("RSA signing failed");
    }
    signature.resize(length);
    if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes(header_digest),
                      header_digest.size()) != 1) {
      return permanent_error("RSA signing failed");
    }
    signature.resize(length);
    return signature;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t length = 64;
  signature.resize(length);
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes(header_digest),
                     header_digest.size()) != 1) {
    return permanent_error("Ed25519 signing failed");
  }
  signature.resize(length);
  return signature;
}

DkimVerifyOutcome verify_dkim_digest(DkimKeyType type, std::string_view public_key, std::string_view header_digest,
                                     std::string_view signature) {
  if (type == DkimKeyType::ed25519) {
    if (public_key.size() != 32) return DkimVerifyOutcome::bad_key;
    PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(public_key), public_key.size()));
    if (!key) return DkimVerifyOutcome::bad_key;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
      return DkimVerifyOutcome::bad_key;
    }
    return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(header_digest),
                            header_digest.size()) == 1
               ? DkimVerifyOutcome::valid
               : DkimVerifyOutcome::bad_signature;
  }
  // RFC 6376 §3.6.1 says RSAPublicKey; in practice p= holds a SubjectPublicKeyInfo.
  // Accept both.
  const unsigned char* cursor = bytes(public_key);
  PkeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(public_key.size())));
  if (!key) {
    cursor = bytes(public_key);
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, static_cast<long>(public_key.size())));
  }
  if (!key || !EVP_PKEY_is_a(key.get(), "RSA")) return DkimVerifyOutcome::bad_key;
  if (EVP_PKEY_get_bits(key.get()) < kMinimumRsaBits) return DkimVerifyOutcome::weak_key;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return DkimVerifyOutcome::bad_key;
  }
  return EVP_PKEY_verify(ctx.get(), bytes(signature), signature.size(), bytes(header_digest), header_digest.size()) == 1
             ? DkimVerifyOutcome::valid
             : DkimVerifyOutcome::bad_signature;
}

}  // namespace postamt::mailauth
