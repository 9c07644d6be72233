#include "server/dkim_commands.hpp"

#include <pwd.h>
#include <unistd.h>

#include <ctime>
#include <iostream>

#include "auth/address.hpp"
#include "mailauth/dkim_key_store.hpp"
#include "mailauth/dmarc_report_ingest.hpp"
#include "server/dns_records.hpp"
#include "server/service_setup.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

namespace ma = mailauth;

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

std::optional<std::string> normalized_domain(const std::string& domain) {
  auto normalized = auth::normalize_domain(domain);
  if (!normalized) {
    std::cerr << "postamt: error: " << normalized.error() << "\n";
    return std::nullopt;
  }
  return *normalized;
}

std::uint64_t now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

// Run as root for a server that runs as server.user: the key files must be that user's
// (they are 0600), as quickstart and setup-permissions leave the rest of the data dir.
Result<void> hand_keys_over(const Config& config, const ma::DkimKeyStore& store, const std::string& domain) {
  if (::geteuid() != 0 || !config.server.user || config.server.user->empty()) return {};
  const passwd* user = ::getpwnam(config.server.user->c_str());
  if (!user) return permanent_error("server.user " + *config.server.user + " does not exist");
  const ServiceAccount account{*config.server.user, user->pw_uid, user->pw_gid, false};
  for (const auto& path : {store.root(), store.root() / domain, store.root() / domain / "keys"}) {
    if (auto ok = hand_over(path, account); !ok) return ok;
  }
  auto entries = store.list(domain);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& entry : *entries) {
    if (auto ok = hand_over(store.key_path(entry), account); !ok) return ok;
  }
  return {};
}

void print_entries(const std::vector<ma::DkimKeyEntry>& entries) {
  for (const auto& entry : entries) {
    char created[32];
    const std::time_t when = static_cast<std::time_t>(entry.created);
    std::tm utc{};
    gmtime_r(&when, &utc);
    std::strftime(created, sizeof created, "%Y-%m-%d", &utc);
    std::cout << entry.domain << " " << entry.selector << " " << ma::key_type_name(entry.type) << " "
              << ma::key_state_name(entry.state) << " " << created << "\n";
  }
}

void print_publish_hint(const std::string& domain) {
  std::cout << "Publish the records `postamt dns records " << domain
            << "` prints, then reload the server (SIGHUP) so it signs with the new keys.\n";
}

}  // namespace

int dkim_add(const Config& config, const std::string& domain, const std::optional<std::string>& selector,
             const std::string& algorithm) {
  const auto name = normalized_domain(domain);
  if (!name) return 1;
  std::vector<ma::DkimKeyType> types;
  if (algorithm == "rsa") {
    types = {ma::DkimKeyType::rsa};
  } else if (algorithm == "ed25519") {
    types = {ma::DkimKeyType::ed25519};
  } else if (algorithm == "both") {
    types = {ma::DkimKeyType::rsa, ma::DkimKeyType::ed25519};
  } else {
    return fail("--algorithm must be rsa, ed25519 or both");
  }
  ma::DkimKeyStore store(config.server.data_dir);
  auto added = store.add(*name, selector, types, now());
  if (!added) return fail(added.error().message);
  if (auto ok = hand_keys_over(config, store, *name); !ok) return fail(ok.error().message);
  print_entries(*added);
  print_publish_hint(*name);
  return 0;
}

int dkim_list(const Config& config) {
  ma::DkimKeyStore store(config.server.data_dir);
  auto entries = store.list();
  if (!entries) return fail(entries.error().message);
  print_entries(*entries);
  return 0;
}

int dkim_rotate(const Config& config, const std::string& domain) {
  const auto name = normalized_domain(domain);
  if (!name) return 1;
  ma::DkimKeyStore store(config.server.data_dir);
  auto added = store.rotate(*name, now());
  if (!added) return fail(added.error().message);
  if (auto ok = hand_keys_over(config, store, *name); !ok) return fail(ok.error().message);
  print_entries(*added);
  std::cout << "The previous keys are retiring: they sign no more but stay published; remove each with "
               "`postamt dkim retire "
            << *name << " SELECTOR` once mail signed with it is delivered (a few days).\n";
  print_publish_hint(*name);
  return 0;
}

int dkim_retire(const Config& config, const std::string& domain, const std::string& selector) {
  const auto name = normalized_domain(domain);
  if (!name) return 1;
  ma::DkimKeyStore store(config.server.data_dir);
  if (auto retired = store.retire(*name, selector); !retired) return fail(retired.error().message);
  std::cout << "key " << selector << " of " << *name << " removed; remove its record "
            << selector << "._domainkey." << *name << " from DNS\n";
  return 0;
}

int dns_records(const Config& config, const std::string& domain) {
  const auto name = normalized_domain(domain);
  if (!name) return 1;
  auto text = dns_records_text(config.server.data_dir, config.server.hostname, *name);
  if (!text) return fail(text.error().message);
  std::cout << *text;
  // The rua= address must be an account: reports arriving there are read from its inbox
  // (`postamt dmarc reports`); without it they bounce, or go unread behind an alias.
  const std::string reports = mailauth::dmarc_reports_address(*name);
  auto store = storage::open_sqlite_store(config.server.data_dir);
  if (!store->find_account(reports).has_value()) {
    std::cerr << "postamt: warning: the account " << reports << " does not exist; create it, e.g. `postamt user add "
              << reports << "` (DMARC reports sent to it are read from its inbox)\n";
  }
  return 0;
}

}  // namespace postamt::server
