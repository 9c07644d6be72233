#pragma once
// DkimKeyStore: the DKIM signing keys in the data directory, per domain and selector:
//
//   <data_dir>/dkim/<domain>/<selector>.pem   the private key (PKCS#8 PEM), 0600
//   <data_dir>/dkim/<domain>/keys             one line per key: "selector algorithm state
//                                             created", state active|retiring, 0600
//
// Active keys sign; retiring keys sign no more but stay published (`postamt dns records`)
// so mail already signed with them still verifies, until `postamt dkim retire` removes
// them. Default selectors are "pa" + the UTC date (pa20261205), a letter added when that
// is taken (pa20261205b), then "r" for the RSA key and "e" for the Ed25519 key.
// Blocking file I/O: start-up and the CLI only.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "mailauth/dkim_crypto.hpp"
#include "mailauth/dkim_signer.hpp"

namespace postamt::mailauth {

enum class DkimKeyState { active, retiring };

struct DkimKeyEntry {
  std::string domain;
  std::string selector;
  DkimKeyType type = DkimKeyType::rsa;
  DkimKeyState state = DkimKeyState::active;
  std::uint64_t created = 0;  // Unix seconds
};

std::string_view key_type_name(DkimKeyType type);  // "rsa", "ed25519"
std::string_view key_state_name(DkimKeyState state);

class DkimKeyStore {
 public:
  explicit DkimKeyStore(std::filesystem::path data_dir) : root_(std::move(data_dir) / "dkim") {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path key_path(const DkimKeyEntry& entry) const;

  // Every key of `domain`, or of every domain when it is empty, sorted by domain then
  // creation.
  Result<std::vector<DkimKeyEntry>> list(const std::string& domain = {}) const;

  // New active keys for `domain`, one per type. `selector`: the name for a single type,
  // the base (suffixed "r"/"e") for both; default date-based as above.
  Result<std::vector<DkimKeyEntry>> add(const std::string& domain, const std::optional<std::string>& selector,
                                        const std::vector<DkimKeyType>& types, std::uint64_t now);
  // New keys of the types now active (RSA and Ed25519 when none is), the old active
  // ones become retiring.
  Result<std::vector<DkimKeyEntry>> rotate(const std::string& domain, std::uint64_t now);
  // Removes a key (its file and its line).
  Result<void> retire(const std::string& domain, const std::string& selector);

  Result<DkimPrivateKey> load_key(const DkimKeyEntry& entry) const;
  // Every active key, ready to sign with.
  Result<DkimSigner> load_signer() const;

 private:
  Result<void> write_entries(const std::string& domain, const std::vector<DkimKeyEntry>& entries) const;
  std::filesystem::path root_;
};

// A lower-case domain name usable as a directory name (letters, digits, "-", ".").
bool valid_key_domain(std::string_view domain);
// RFC 6376 §3.1 selector: sub-domain labels; here letters, digits, "-", "." only.
bool valid_selector(std::string_view selector);

}  // namespace postamt::mailauth
