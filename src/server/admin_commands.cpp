#include "server/admin_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "auth/address.hpp"
#include "auth/password_hash.hpp"
#include "server/data_dir_lock.hpp"
#include "storage/api/blob_collector.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

int fail(const storage::StorageError& error) { return fail(error.message); }

std::unique_ptr<storage::MailStore> open_store(const Config& config) {
  return storage::open_sqlite_store(config.server.data_dir);
}

std::optional<std::string> resolve_password(std::optional<std::string> given) {
  if (given) return given;
  return read_password_from_stdin();
}

}  // namespace

std::optional<std::string> read_password_from_stdin() {
  std::string line;
  if (::isatty(STDIN_FILENO)) {
    termios saved{};
    ::tcgetattr(STDIN_FILENO, &saved);
    termios silent = saved;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    std::cerr << "Password: " << std::flush;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &silent);
    std::getline(std::cin, line);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  } else if (!std::getline(std::cin, line)) {
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int domain_add(const Config& config, const std::string& name) {
  auto domain = auth::normalize_domain(name);
  if (!domain) return fail(domain.error());
  auto added = open_store(config)->add_domain(*domain);
  if (!added) return fail(added.error());
  std::cout << "domain " << added->name << " added\n";
  return 0;
}

int domain_list(const Config& config) {
  auto domains = open_store(config)->list_domains();
  if (!domains) return fail(domains.error());
  for (const auto& domain : *domains) std::cout << domain.name << "\n";
  return 0;
}

int domain_del(const Config& config, const std::string& name) {
  auto domain = auth::normalize_domain(name);
  if (!domain) return fail(domain.error());
  auto deleted = open_store(config)->delete_domain(*domain);
  if (!deleted) return fail(deleted.error());
  std::cout << "domain " << *domain << " deleted\n";
  return 0;
}

int user_add(const Config& config, const std::string& address, std::optional<std::string> password,
             std::optional<std::uint64_t> quota_bytes) {
  auto normalized = auth::normalize_address(address);
  if (!normalized) return fail(normalized.error());
  auto secret = resolve_password(std::move(password));
  if (!secret || secret->empty()) return fail("no password given (use --password or standard input)");
  auto store = open_store(config);
  auto added = store->add_account(*normalized, auth::hash_password(*secret));
  if (!added) return fail(added.error());
  if (quota_bytes) {
    if (auto set = store->set_quota(*normalized, *quota_bytes); !set) return fail(set.error());
  }
  std::cout << "user " << added->address << " added\n";
  return 0;
}

int user_list(const Config& config, const std::string& domain) {
  auto accounts = open_store(config)->list_accounts(domain);
  if (!accounts) return fail(accounts.error());
  for (const auto& account : *accounts) {
    std::cout << account.address;
    if (account.quota_bytes) std::cout << " quota=" << account.quota_bytes;
    if (account.disabled) std::cout << " disabled";
    std::cout << "\n";
  }
  return 0;
}

int user_del(const Config& config, const std::string& address) {
  auto normalized = auth::normalize_address(address);
  if (!normalized) return fail(normalized.error());
  auto deleted = open_store(config)->delete_account(*normalized);
  if (!deleted) return fail(deleted.error());
  std::cout << "user " << *normalized << " deleted\n";
  return 0;
}

int user_passwd(const Config& config, const std::string& address, std::optional<std::string> password) {
  auto normalized = auth::normalize_address(address);
  if (!normalized) return fail(normalized.error());
  auto store = open_store(config);
  if (auto found = store->find_account(*normalized); !found) return fail(found.error());
  auto secret = resolve_password(std::move(password));
  if (!secret || secret->empty()) return fail("no password given (use --password or standard input)");
  auto set = store->set_password_hash(*normalized, auth::hash_password(*secret));
  if (!set) return fail(set.error());
  std::cout << "password of " << *normalized << " changed\n";
  return 0;
}

int user_quota(const Config& config, const std::string& address, std::uint64_t quota_bytes) {
  auto normalized = auth::normalize_address(address);
  if (!normalized) return fail(normalized.error());
  auto store = open_store(config);
  if (auto set = store->set_quota(*normalized, quota_bytes); !set) return fail(set.error());
  if (quota_bytes == 0) {
    std::cout << "quota of " << *normalized << " removed\n";
  } else {
    std::cout << "quota of " << *normalized << " set to " << quota_bytes << " bytes\n";
  }
  return 0;
}

int alias_add(const Config& config, const std::string& source,
              const std::vector<std::string>& destinations) {
  auto normalized = auth::normalize_alias_source(source);
  if (!normalized) return fail(normalized.error());
  auto store = open_store(config);
  for (const auto& destination : destinations) {
    auto target = auth::normalize_address(destination);
    if (!target) return fail(target.error());
    auto added = store->add_alias(*normalized, *target);
    if (!added) return fail(added.error());
    std::cout << "alias " << added->source << " -> " << added->destination << " added\n";
  }
  return 0;
}

int alias_list(const Config& config, const std::string& domain) {
  auto aliases = open_store(config)->list_aliases(domain);
  if (!aliases) return fail(aliases.error());
  for (const auto& alias : *aliases) std::cout << alias.source << " -> " << alias.destination << "\n";
  return 0;
}

int alias_del(const Config& config, const std::string& source, const std::string& destination) {
  auto normalized = auth::normalize_alias_source(source);
  if (!normalized) return fail(normalized.error());
  std::string target;
  if (!destination.empty()) {
    auto checked = auth::normalize_address(destination);
    if (!checked) return fail(checked.error());
    target = *checked;
  }
  auto deleted = open_store(config)->delete_alias(*normalized, target);
  if (!deleted) return fail(deleted.error());
  std::cout << "alias " << *normalized << (target.empty() ? "" : " -> " + target) << " deleted\n";
  return 0;
}

namespace {

struct MailboxListing {
  storage::MailboxRecord mailbox;
  std::vector<storage::MessageRecord> messages;
};

// The messages of one mailbox of one account, or the one-line error to print.
std::expected<MailboxListing, std::string> list_mailbox(storage::MailStore& store, const std::string& address,
                                                        const std::string& mailbox) {
  auto normalized = auth::normalize_address(address);
  if (!normalized) return std::unexpected(normalized.error());
  auto account = store.find_account(*normalized);
  if (!account) return std::unexpected(account.error().message);
  auto box = store.find_mailbox(account->id, mailbox);
  if (!box) return std::unexpected(box.error().message);
  auto messages = store.list_messages(box->id);
  if (!messages) return std::unexpected(messages.error().message);
  return MailboxListing{std::move(*box), std::move(*messages)};
}

}  // namespace

int debug_mailbox(const Config& config, const std::string& address, const std::string& mailbox) {
  auto listing = list_mailbox(*open_store(config), address, mailbox);
  if (!listing) return fail(listing.error());
  const auto& box = listing->mailbox;
  std::cout << "# " << box.name << " uidvalidity=" << box.uidvalidity << " uidnext=" << box.uidnext
            << " highestmodseq=" << box.highestmodseq << " messages=" << listing->messages.size() << "\n";
  for (const auto& message : listing->messages) {
    std::string flags;
    for (const auto& flag : message.flags) flags += (flags.empty() ? "" : ",") + flag;
    std::cout << message.uid << " " << message.size << " " << (flags.empty() ? "-" : flags) << " "
              << message.blob_id << "\n";
  }
  return 0;
}

int debug_message(const Config& config, const std::string& address, const std::string& mailbox,
                  std::uint32_t uid) {
  auto listing = list_mailbox(*open_store(config), address, mailbox);
  if (!listing) return fail(listing.error());
  for (const auto& message : listing->messages) {
    if (message.uid != uid) continue;
    storage::FsBlobStore blobs(config.server.data_dir / "blobs");
    auto content = blobs.read(message.blob_id);
    if (!content) return fail(content.error());
    std::cout.write(content->data(), static_cast<std::streamsize>(content->size()));
    return 0;
  }
  return fail("no message with UID " + std::to_string(uid) + " in " + listing->mailbox.name);
}

int debug_check_store(const Config& config) {
  auto store = open_store(config);
  storage::FsBlobStore blobs(config.server.data_dir / "blobs");
  auto report = storage::check_consistency(*store, blobs);
  if (!report) return fail(report.error());
  // Read only, so it may run beside the server; its deliveries in flight and blobs about to
  // be reclaimed may then show as unreferenced files.
  if (auto holder = data_dir_holder(config.server.data_dir); !holder.empty() && !report->problems.empty())
    std::cerr << "note: " << holder << ": a delivery in flight or a blob about to be reclaimed may show here\n";
  for (const auto& problem : report->problems) std::cout << "problem: " << problem << "\n";
  std::cout << "messages=" << report->messages << " queued=" << report->queued
            << " blob_files=" << report->blob_files << " problems=" << report->problems.size() << "\n";
  return report->problems.empty() ? 0 : 1;
}

}  // namespace postamt::server
