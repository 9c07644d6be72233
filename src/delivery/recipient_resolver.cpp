#include "delivery/recipient_resolver.hpp"

#include <algorithm>
#include <set>

namespace postamt::delivery {
namespace {

using storage::StorageError;

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

std::string_view local_part_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? address : address.substr(0, at);
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool not_found(const StorageError& error) { return error.code == StorageError::Code::not_found; }

}  // namespace

struct RecipientResolver::Walk {
  std::set<std::string> expanding;  // lower-cased addresses on the current path
  std::set<std::string> seen_remote;
  std::set<storage::Id> seen_accounts;
  Resolution result;
  bool loop = false;
};

storage::StoreResult<bool> RecipientResolver::is_local_domain(std::string_view domain) {
  auto found = store_.find_domain(domain);
  if (found) return true;
  if (not_found(found.error())) return false;
  return std::unexpected(found.error());
}

// Adds what `address` resolves to; false when nothing is known for it.
storage::StoreResult<bool> RecipientResolver::expand(std::string_view address, int depth, Walk& walk) {
  const std::string key = lower_ascii(address);
  auto local_domain = is_local_domain(domain_of(address));
  if (!local_domain) return std::unexpected(local_domain.error());
  if (!*local_domain) {
    if (walk.seen_remote.insert(key).second) walk.result.remote.emplace_back(address);
    return true;
  }

  auto deliver_to_account = [&](std::string_view account_address) -> storage::StoreResult<bool> {
    auto account = store_.find_account(account_address);
    if (!account) {
      if (not_found(account.error())) return false;
      return std::unexpected(account.error());
    }
    if (walk.seen_accounts.insert(account->id).second) {
      walk.result.local.push_back({account->id, account->address});
    }
    return true;
  };

  if (walk.expanding.contains(key)) {
    // An alias that names an address already being expanded: a copy for that account
    // when there is one, otherwise a loop.
    auto delivered = deliver_to_account(address);
    if (!delivered) return delivered;
    if (!*delivered) walk.loop = true;
    return true;
  }
  if (depth > kMaxAliasDepth) {
    walk.loop = true;
    return true;
  }

  auto follow_aliases = [&](std::string_view source) -> storage::StoreResult<bool> {
    auto aliases = store_.find_aliases(source);
    if (!aliases) {
      if (not_found(aliases.error())) return false;
      return std::unexpected(aliases.error());
    }
    if (aliases->empty()) return false;
    walk.expanding.insert(lower_ascii(source));
    for (const auto& alias : *aliases) {
      auto expanded = expand(alias.destination, depth + 1, walk);
      if (!expanded) return expanded;
    }
    walk.expanding.erase(lower_ascii(source));
    return true;
  };

  // 1. and 2.
  auto by_alias = follow_aliases(address);
  if (!by_alias || *by_alias) return by_alias;
  auto by_account = deliver_to_account(address);
  if (!by_account || *by_account) return by_account;

  // 3. plus-addressing
  const std::string_view local = local_part_of(address);
  if (const auto plus = local.find('+'); plus != std::string_view::npos && plus > 0) {
    const std::string base = std::string(local.substr(0, plus)) + "@" + std::string(domain_of(address));
    auto base_alias = follow_aliases(base);
    if (!base_alias || *base_alias) return base_alias;
    auto base_account = deliver_to_account(base);
    if (!base_account || *base_account) return base_account;
  }

  // 4. catch-all
  return follow_aliases("@" + std::string(domain_of(address)));
}

storage::StoreResult<Resolution> RecipientResolver::resolve(std::string_view address) {
  auto local_domain = is_local_domain(domain_of(address));
  if (!local_domain) return std::unexpected(local_domain.error());
  if (!*local_domain) {
    Resolution resolution;
    resolution.kind = Resolution::Kind::not_local;
    resolution.remote.emplace_back(address);
    return resolution;
  }
  Walk walk;
  auto found = expand(address, 0, walk);
  if (!found) return std::unexpected(found.error());
  Resolution resolution = std::move(walk.result);
  // Aliases that lead nowhere (a dangling local destination, a loop) must not swallow
  // mail silently: with no target at all, RCPT is refused.
  if (!*found || (resolution.local.empty() && resolution.remote.empty())) {
    resolution.kind = walk.loop ? Resolution::Kind::loop : Resolution::Kind::unknown_user;
  } else {
    resolution.kind = Resolution::Kind::local;
  }
  return resolution;
}

}  // namespace postamt::delivery
