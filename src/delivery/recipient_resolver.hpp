#pragma once
// Recipient resolution (what RCPT TO needs to know): is the address in a local domain,
// which accounts receive it, which external addresses an alias forwards it to.
//
// Order for a local address, first match wins:
//   1. aliases of the exact address          (expanded recursively)
//   2. the account with that address
//   3. with plus-addressing, "user+tag@d" -> "user@d": its aliases, then its account
//   4. the catch-all "@domain"                (expanded recursively)
// An alias may name its own source to keep a copy in the account of that name. Expansion
// stops at kMaxAliasDepth levels and at addresses already being expanded (a loop).
// Blocking: run it on the storage pool.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/api/mail_store.hpp"

namespace postamt::delivery {

struct LocalRecipient {
  storage::Id account_id = 0;
  std::string address;  // the account's address
};

struct Resolution {
  enum class Kind {
    local,          // delivered to `local` accounts and/or forwarded to `remote`
    not_local,      // the domain is not ours: relaying, if policy allows
    unknown_user,   // a local domain without such a recipient: 550 5.1.1 at RCPT
    loop,           // alias expansion too deep or circular with no account to land in
  };
  Kind kind = Kind::unknown_user;
  std::vector<LocalRecipient> local;  // unique accounts
  std::vector<std::string> remote;    // unique external addresses
};

inline constexpr int kMaxAliasDepth = 10;

class RecipientResolver {
 public:
  explicit RecipientResolver(storage::MailStore& store) : store_(store) {}

  // `address` must already be normalised (auth::normalize_address).
  storage::StoreResult<Resolution> resolve(std::string_view address);

  // Whether the domain is one of ours.
  storage::StoreResult<bool> is_local_domain(std::string_view domain);

 private:
  struct Walk;
  storage::StoreResult<bool> expand(std::string_view address, int depth, Walk& walk);

  storage::MailStore& store_;
};

}  // namespace postamt::delivery
