#include "server/quickstart.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "auth/address.hpp"
#include "auth/password_hash.hpp"
#include "base/atomic_file.hpp"
#include "mailauth/dkim_key_store.hpp"
#include "mailauth/dmarc_report_ingest.hpp"
#include "net/self_signed_cert.hpp"
#include "server/config/config_loader.hpp"
#include "server/data_dir_lock.hpp"
#include "server/dns_records.hpp"
#include "server/serve.hpp"
#include "server/service_setup.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

struct PortPlan {
  const char* protocol;
  const char* production;
  const char* development;
};

// Production: every mail port on all addresses, HTTP on loopback only.
constexpr PortPlan kPorts[] = {
    {"smtp", "0.0.0.0:25", "127.0.0.1:2525"},
    {"submission", "0.0.0.0:587", "127.0.0.1:2587"},
    {"submissions", "0.0.0.0:465", "127.0.0.1:2465"},
    {"imap", "0.0.0.0:143", "127.0.0.1:2143"},
    {"imaps", "0.0.0.0:993", "127.0.0.1:2993"},
    {"pop3", "0.0.0.0:110", "127.0.0.1:2110"},
    {"pop3s", "0.0.0.0:995", "127.0.0.1:2995"},
    {"http", "127.0.0.1:8025", "127.0.0.1:8025"},
};

// service_user: empty for a server that runs as whoever starts it (development).
std::string config_text(const QuickstartOptions& options, const std::string& service_user) {
  std::ostringstream out;
  out << "# Written by `postamt quickstart`. Every key is described in docs/CONFIGURATION.md.\n"
      << "# Relative paths are relative to this file's directory.\n\n"
      << "[server]\n"
      << "hostname = \"" << options.hostname << "\"\n"
      << "data_dir = \"data\"\n";
  if (service_user.empty()) {
    out << "ports_file = \"ports.json\"\n\n";
  } else {
    // The server writes the ports file as the service user: it goes where that user may write.
    out << "ports_file = \"data/ports.json\"\n"
        << "user = \"" << service_user << "\"   # started as root: binds, then runs as this user\n\n";
  }
  out
      << "[tls]\n"
      << "cert = \"tls/cert.pem\"\n"
      << "key = \"tls/key.pem\"\n"
      << "self_signed = true   # replace with a real certificate for production\n\n"
      << "[log]\n"
      << "level = \"info\"\n";
  for (const auto& port : kPorts) {
    out << "\n[[listener]]\nprotocol = \"" << port.protocol << "\"\naddress = \""
        << (options.dev_ports ? port.development : port.production) << "\"\n";
  }
  return out.str();
}

std::string generate_password() {
  static constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string password;
  for (int i = 0; i < 20; ++i) password += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  return password;
}

struct RoleAddresses {
  std::string summary;  // printed for the operator
};

// postmaster@ and abuse@ of the domain: aliases of the account when there is one, else a
// postmaster account with a generated password (printed once) and abuse@ an alias of it.
Result<RoleAddresses> add_role_addresses(storage::MailStore& store, const std::string& domain,
                                         const std::string& owner) {
  const std::string postmaster = "postmaster@" + domain;
  const std::string abuse = "abuse@" + domain;
  RoleAddresses result;
  std::string target = owner;
  if (target.empty()) {
    if (auto found = store.find_account(postmaster); !found) {
      const std::string password = generate_password();
      auto added = store.add_account(postmaster, auth::hash_password(password));
      if (!added) return permanent_error(added.error().message);
      result.summary += "Account " + postmaster + " password (shown once): " + password + "\n";
    }
    target = postmaster;
  } else if (auto existing = store.find_aliases(postmaster); existing && existing->empty()) {
    if (auto added = store.add_alias(postmaster, target); !added) return permanent_error(added.error().message);
  }
  if (auto existing = store.find_aliases(abuse); existing && existing->empty()) {
    if (auto added = store.add_alias(abuse, target); !added) return permanent_error(added.error().message);
  }
  result.summary += postmaster + " and " + abuse + " deliver to " + target + "\n";
  return result;
}

// The data directory and everything in it, and the private keys, go to the service user;
// directories 0700 and files 0600 (DESIGN: least privilege). Only ever at set-up.
Result<void> hand_over_setup(const Config& config, const ServiceAccount& account) {
  const auto& data = config.server.data_dir;
  std::error_code ec;
  if (auto ok = hand_over(data, account); !ok) return ok;
  ::chmod(data.c_str(), 0700);
  for (auto it = std::filesystem::recursive_directory_iterator(data, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (auto ok = hand_over(it->path(), account); !ok) return ok;
    if (!it->is_symlink()) ::chmod(it->path().c_str(), it->is_directory() ? 0700 : 0600);
  }
  if (ec) return permanent_error("cannot walk " + data.string() + ": " + ec.message());
  // The DKIM keys are in the data directory (data/dkim/), handed over above.
  if (auto ok = hand_over(config.tls.key, account); !ok) return ok;
  // The config stays root's, readable by the service user's group (0640): the server reads
  // it at start and at SIGHUP, and must not be able to change it.
  if (::chown(config.source.c_str(), 0, account.gid) != 0) {
    return permanent_error("cannot give " + config.source.string() + " to group " + account.name);
  }
  return {};
}

}  // namespace

int quickstart(const QuickstartOptions& options) {
  auto domain = auth::normalize_domain(options.domain);
  if (!domain) return fail(domain.error());
  auto hostname = auth::normalize_domain(options.hostname);
  if (!hostname) return fail("--hostname: " + hostname.error());

  std::error_code ec;
  const bool new_dir = !std::filesystem::exists(options.dir, ec);
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return fail("cannot create " + options.dir.string() + ": " + ec.message());
  const auto dir = std::filesystem::absolute(options.dir);
  // A new set-up directory stays reachable for a service user (server.user): each file in
  // it guards itself (config 0640, keys 0600, data/ 0700); the umask would make it 0700.
  if (new_dir) std::filesystem::permissions(dir, std::filesystem::perms(0755), ec);
  const auto config_path = dir / "postamt.toml";
  if (std::filesystem::exists(config_path) && !options.force) {
    return fail(config_path.string() + " exists already (use --force to overwrite)");
  }
  // Not under a running server: it would rewrite the config and keys the server uses.
  if (auto holder = data_dir_holder(dir / "data"); !holder.empty()) {
    std::cerr << "postamt: error: " << holder << "\n";
    return kExitDataDirInUse;
  }

  QuickstartOptions normalized = options;
  normalized.hostname = *hostname;
  // A production set-up made by root runs as a system user of its own (never as root).
  std::optional<ServiceAccount> account;
  if (!options.dev_ports && !options.service_user.empty() && ::geteuid() == 0) {
    auto ensured = ensure_service_account(options.service_user, dir / "data");
    if (!ensured) return fail(ensured.error().message);
    account = *ensured;
  }
  const std::string service_user = account ? account->name : std::string();
  if (auto written = write_file_atomically(config_path, config_text(normalized, service_user), 0640); !written) {
    return fail(written.error().message);
  }
  auto config = config::load_config_file(config_path);
  if (!config) return fail("the written config does not load: " + config.error().to_string());

  if (!std::filesystem::exists(config->tls.cert)) {
    const auto tls_dir = config->tls.cert.parent_path();
    const bool new_tls_dir = !std::filesystem::exists(tls_dir);
    auto made = net::write_self_signed_certificate(config->tls.cert, config->tls.key, *hostname);
    if (!made) return fail(made.error().message);
    if (new_tls_dir) std::filesystem::permissions(tls_dir, std::filesystem::perms(0755), ec);
  }

  // One RSA-2048 and one Ed25519 key (RFC 8463), unless the domain has active keys already.
  mailauth::DkimKeyStore keys(config->server.data_dir);
  auto existing_keys = keys.list(*domain);
  if (!existing_keys) return fail(existing_keys.error().message);
  bool has_active_key = false;
  for (const auto& entry : *existing_keys) has_active_key = has_active_key || entry.state == mailauth::DkimKeyState::active;
  if (!has_active_key) {
    auto added = keys.add(*domain, std::nullopt, {mailauth::DkimKeyType::rsa, mailauth::DkimKeyType::ed25519},
                          static_cast<std::uint64_t>(std::time(nullptr)));
    if (!added) return fail("cannot create the DKIM keys: " + added.error().message);
  }
  auto records = dns_records_text(config->server.data_dir, *hostname, *domain);
  if (!records) return fail(records.error().message);

  auto store = storage::open_sqlite_store(config->server.data_dir);
  if (auto found = store->find_domain(*domain); !found) {
    if (auto added = store->add_domain(*domain); !added) return fail(added.error().message);
  }
  std::optional<std::string> password;
  std::string mailbox_owner;  // who reads postmaster@ and abuse@
  if (options.account) {
    auto address = auth::normalize_address(*options.account);
    if (!address) return fail(address.error());
    password = generate_password();
    auto added = store->add_account(*address, auth::hash_password(*password));
    if (!added) return fail(added.error().message);
    mailbox_owner = *address;
  }
  // RFC 5321 §4.5.1 requires postmaster; RFC 2142 names abuse. Both must exist, or the DMARC
  // report address printed below bounces.
  auto roles = add_role_addresses(*store, *domain, mailbox_owner);
  if (!roles) return fail(roles.error().message);
  // The DMARC report address (rua): other receivers' aggregate reports arrive in its INBOX
  // and `postamt dmarc reports` reads them from there. Nobody logs in to it.
  const std::string reports = mailauth::dmarc_reports_address(*domain);
  if (auto found = store->find_account(reports); !found) {
    if (auto added = store->add_account(reports, auth::hash_password(generate_password())); !added)
      return fail(added.error().message);
  }
  store.reset();

  std::filesystem::path unit_path;
  if (account) {
    // Set once here, never by the server at start: the data directory, its files and the
    // private keys belong to the service user, everything else stays root's.
    if (auto ok = hand_over_setup(*config, *account); !ok) return fail(ok.error().message);
    unit_path = dir / "postamt.service";
    const auto binary = std::filesystem::read_symlink("/proc/self/exe", ec);
    const auto unit = systemd_unit_text(ec ? std::filesystem::path("/usr/local/bin/postamt") : binary,
                                        config_path, config->server.data_dir, *account);
    if (auto written = write_file_atomically(unit_path, unit, 0644); !written) return fail(written.error().message);
  }

  std::cout << "Postamt is set up in " << dir.string() << "\n"
            << "  config:      " << config_path.string() << "\n"
            << "  certificate: " << config->tls.cert.string() << " (self-signed)\n"
            << "  DKIM keys:   " << keys.root().string() << " (postamt dkim list)\n";
  if (account) {
    std::cout << "  runs as:     " << account->name << (account->created ? " (system user created now)" : "")
              << "\n  systemd:     " << unit_path.string() << "\n";
  } else if (!options.dev_ports && ::geteuid() != 0) {
    std::cout << "  runs as:     whoever starts it (run quickstart as root for a system user and a systemd unit)\n";
  }
  if (options.account) {
    std::cout << "\nAccount " << *options.account << " password (shown once): " << *password << "\n";
  }
  std::cout << "\n" << roles->summary;
  std::cout << "\nPublish these DNS records for " << *domain << " (again: postamt dns records " << *domain << "):\n"
            << *records
            << "\nStart the server with: postamt serve --config " << config_path.string() << "\n";
  return 0;
}

}  // namespace postamt::server
