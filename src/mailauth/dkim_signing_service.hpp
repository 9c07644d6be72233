#pragma once
// DkimSigningService: the server's DKIM signer, loaded from the key store at start-up
// and again at SIGHUP (a failed reload keeps the keys in use). Thread-safe: SMTP
// sessions and the queue's notices sign from any thread; a reload swaps the signer.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace postamt::mailauth {

class DkimSigner;

class DkimSigningService {
 public:
  explicit DkimSigningService(std::filesystem::path data_dir);
  ~DkimSigningService();

  // (Re)reads every active key; the number of keys loaded.
  Result<std::size_t> load();

  // The domain whose keys sign mail from `author_domain`: itself, else its nearest parent
  // domain that has keys (relaxed DMARC alignment, RFC 7489 §3.1.1, still holds: a
  // bounce From MAILER-DAEMON@mail.example.com signed by example.com). "" when none.
  std::string signing_domain(std::string_view author_domain) const;

  // The DKIM-Signature fields (CRLF-terminated) to add at the top of `message`'s header,
  // one per active key of signing_domain(author_domain), t= now; "" when there is no key
  // or signing failed (logged: the message then goes out unsigned rather than not at all).
  std::string sign(std::string_view message, std::string_view author_domain) const;

 private:
  std::shared_ptr<const DkimSigner> current() const;

  std::filesystem::path data_dir_;
  mutable std::mutex mutex_;
  std::shared_ptr<const DkimSigner> signer_;
};

}  // namespace postamt::mailauth
