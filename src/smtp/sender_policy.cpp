#include "smtp/sender_policy.hpp"

#include <algorithm>

#include "auth/address.hpp"

namespace postamt::smtp {
namespace {

bool ascii_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool domain_granted(const SmtpConfig& config, std::string_view address, std::string_view account) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string_view domain = address.substr(at + 1);
  for (const auto& [grantee, domains] : config.send_as) {
    if (!ascii_iequals(grantee, account)) continue;
    if (std::ranges::any_of(domains, [&](const std::string& d) { return ascii_iequals(d, domain); })) return true;
  }
  return false;
}

}  // namespace

storage::StoreResult<bool> sender_owned(storage::MailStore& store, const SmtpConfig& config,
                                        std::string_view address, std::string_view account) {
  auto normalized = auth::normalize_address(address);
  if (!normalized) return false;
  // The store compares addresses ignoring ASCII case; so must the ownership check.
  if (ascii_iequals(*normalized, account)) return true;
  if (domain_granted(config, *normalized, account)) return true;
  auto aliases = store.find_aliases(*normalized);
  if (!aliases) {
    if (aliases.error().code == storage::StorageError::Code::not_found) return false;
    return std::unexpected(aliases.error());
  }
  return std::ranges::any_of(*aliases, [&](const auto& alias) { return ascii_iequals(alias.destination, account); });
}

storage::StoreResult<std::string> postmaster_address(storage::MailStore& store, std::string_view hostname) {
  auto domains = store.list_domains();
  if (!domains) return std::unexpected(domains.error());
  if (domains->empty()) return std::string();
  std::string_view candidate = hostname;
  while (!candidate.empty()) {
    const bool local = std::ranges::any_of(*domains, [&](const auto& d) { return ascii_iequals(d.name, candidate); });
    if (local) return "postmaster@" + std::string(candidate);
    const auto dot = candidate.find('.');
    if (dot == std::string_view::npos) break;
    candidate.remove_prefix(dot + 1);
  }
  const auto first = std::ranges::min_element(*domains, {}, &storage::DomainRecord::id);
  return "postmaster@" + first->name;
}

}  // namespace postamt::smtp
