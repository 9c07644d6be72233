// SqliteMailStore: accounts, and the quota that is checked against them.
#include <array>
#include <limits>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {
namespace {

using namespace sqlite;

constexpr std::size_t kMaxPasswordHashOctets = 1024;

// The mailboxes every account gets besides INBOX (RFC 6154 §2 special-use attributes).
struct DefaultMailbox {
  std::string_view name;
  SpecialUse special_use;
};
constexpr std::array<DefaultMailbox, 5> kDefaultMailboxes = {{
    {"Drafts", SpecialUse::drafts},
    {"Sent", SpecialUse::sent},
    {"Trash", SpecialUse::trash},
    {"Junk", SpecialUse::junk},
    {"Archive", SpecialUse::archive},
}};

StoreResult<std::string> validate_password_hash(std::string_view hash) {
  if (hash.size() > kMaxPasswordHashOctets)
    return invalid("The password hash is longer than 1024 octets.");
  if (has_control(hash)) return invalid("The password hash holds a control character.");
  return std::string(hash);
}

}  // namespace

// --- accounts

StoreResult<AccountRecord> SqliteMailStore::find_account_locked(const std::string& address) {
  auto stmt = db_->prepare(
      "SELECT id, address, password_hash, quota_bytes, disabled, created_at FROM accounts "
      "WHERE address = ?1");
  if (!stmt) return fail(stmt);
  stmt->bind(1, address);
  return single(*stmt, read_account, "The account " + address + " does not exist.");
}

StoreResult<void> SqliteMailStore::require_account_locked(Id account_id) {
  auto stmt = db_->prepare("SELECT 1 FROM accounts WHERE id = ?1");
  if (!stmt) return fail(stmt);
  auto found = exists(stmt->bind(1, account_id));
  if (!found) return fail(found);
  if (!*found)
    return storage_error(Code::not_found,
                         "The account with id " + std::to_string(account_id) + " does not exist.");
  return {};
}

StoreResult<AccountRecord> SqliteMailStore::add_account(std::string_view address,
                                                        std::string_view password_hash) {
  auto normalized = normalize_address(address);
  if (!normalized) return invalid(normalized.error());
  auto hash = validate_password_hash(password_hash);
  if (!hash) return fail(hash);
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  const std::string domain_name(domain_of(*normalized));
  auto domain = find_domain_locked(domain_name);
  if (!domain) {
    if (domain.error().code == Code::not_found)
      return storage_error(Code::not_found,
                           "The domain " + domain_name + " is not a local domain; add it first.");
    return fail(domain);
  }
  if (auto existing = find_account_locked(*normalized); existing)
    return storage_error(Code::already_exists,
                         "The account " + existing->address + " already exists.");
  else if (existing.error().code != Code::not_found)
    return fail(existing);

  AccountRecord record;
  record.address = *normalized;
  record.password_hash = std::move(*hash);
  record.created_at = now_seconds();
  {
    auto stmt = db_->prepare(
        "INSERT INTO accounts(domain_id, address, password_hash, created_at) "
        "VALUES (?1, ?2, ?3, ?4)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, domain->id)
                    .bind(2, record.address)
                    .bind(3, record.password_hash)
                    .bind(4, record.created_at)
                    .run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  // INBOX and the special-use mailboxes, subscribed, in the same transaction: an account
  // never exists without its INBOX.
  auto inbox = create_mailbox_locked(record.id, std::string(kInbox), SpecialUse::none);
  if (!inbox) return fail(inbox);
  auto subscribed = subscribe_locked(record.id, std::string(kInbox));
  if (!subscribed) return fail(subscribed);
  for (const DefaultMailbox& mailbox : kDefaultMailboxes) {
    auto created = create_mailbox_locked(record.id, std::string(mailbox.name), mailbox.special_use);
    if (!created) return fail(created);
    auto sub = subscribe_locked(record.id, std::string(mailbox.name));
    if (!sub) return fail(sub);
  }
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return record;
}

StoreResult<std::vector<AccountRecord>> SqliteMailStore::list_accounts(std::string_view domain) {
  std::string normalized;
  if (!domain.empty()) {
    auto name = normalize_domain_name(domain);
    if (!name) return invalid(name.error());
    normalized = std::move(*name);
  }
  std::lock_guard lock(mutex_);
  if (normalized.empty()) {
    auto stmt = db_->prepare(
        "SELECT id, address, password_hash, quota_bytes, disabled, created_at FROM accounts "
        "ORDER BY address");
    if (!stmt) return fail(stmt);
    return collect(*stmt, read_account);
  }
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = find_domain_locked(normalized);
  if (!found) return fail(found);
  auto stmt = db_->prepare(
      "SELECT id, address, password_hash, quota_bytes, disabled, created_at FROM accounts "
      "WHERE domain_id = ?1 ORDER BY address");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, found->id), read_account);
}

StoreResult<AccountRecord> SqliteMailStore::find_account(std::string_view address) {
  auto normalized = normalize_address(address);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  return find_account_locked(*normalized);
}

StoreResult<void> SqliteMailStore::set_password_hash(std::string_view address,
                                                     std::string_view password_hash) {
  auto normalized = normalize_address(address);
  if (!normalized) return invalid(normalized.error());
  auto hash = validate_password_hash(password_hash);
  if (!hash) return fail(hash);
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("UPDATE accounts SET password_hash = ?2 WHERE address = ?1");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, *normalized).bind(2, *hash).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found, "The account " + *normalized + " does not exist.");
  return {};
}

StoreResult<void> SqliteMailStore::set_quota(std::string_view address, std::uint64_t quota_bytes) {
  auto normalized = normalize_address(address);
  if (!normalized) return invalid(normalized.error());
  if (quota_bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return invalid("The quota is too large.");
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("UPDATE accounts SET quota_bytes = ?2 WHERE address = ?1");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, *normalized).bind(2, static_cast<std::int64_t>(quota_bytes)).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found, "The account " + *normalized + " does not exist.");
  return {};
}

StoreResult<void> SqliteMailStore::delete_account(std::string_view address) {
  auto normalized = normalize_address(address);
  if (!normalized) return invalid(normalized.error());
  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<void> {
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail(txn);
    auto account = find_account_locked(*normalized);
    if (!account) return fail(account);
    std::vector<Id> mailboxes;
    {
      auto stmt = db_->prepare("SELECT id FROM mailboxes WHERE account_id = ?1");
      if (!stmt) return fail(stmt);
      auto ids =
          collect(stmt->bind(1, account->id), [](const Statement& s) { return s.column_int64(0); });
      if (!ids) return fail(ids);
      mailboxes = std::move(*ids);
    }
    // ON DELETE CASCADE removes mailboxes, messages, expunge records and subscriptions;
    // the message triggers drop the blob references.
    auto stmt = db_->prepare("DELETE FROM accounts WHERE id = ?1");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, account->id).run();
    if (!done) return done;
    auto committed = txn->commit();
    if (!committed) return committed;
    changed = std::move(mailboxes);
    return {};
  });
}

// --- quota

StoreResult<std::uint64_t> SqliteMailStore::account_usage(Id account_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto account = require_account_locked(account_id);
  if (!account) return fail(account);
  // The mailboxes keep their sizes (triggers), so this reads one row per mailbox.
  auto stmt =
      db_->prepare("SELECT coalesce(sum(total_size), 0) FROM mailboxes WHERE account_id = ?1");
  if (!stmt) return fail(stmt);
  return single(
      stmt->bind(1, account_id),
      [](const Statement& s) { return static_cast<std::uint64_t>(s.column_int64(0)); },
      "The account with id " + std::to_string(account_id) + " does not exist.");
}

// Checked after the change, inside its transaction: an account that grew must not end up
// above its quota. One that shrank or stayed (a MOVE between its own mailboxes) passes even
// when it is over its quota already (the quota was lowered), so users can still clean up.
StoreResult<void> SqliteMailStore::enforce_quota_locked(const AccountGrowth& growth) {
  for (const auto& [account_id, bytes] : growth) {
    if (bytes <= 0) continue;
    auto stmt = db_->prepare(
        "SELECT address, quota_bytes, CASE WHEN quota_bytes > 0 THEN "
        "(SELECT coalesce(sum(total_size), 0) FROM mailboxes WHERE account_id = ?1) ELSE 0 END "
        "FROM accounts WHERE id = ?1");
    if (!stmt) return fail(stmt);
    auto row = stmt->bind(1, account_id).step();
    if (!row) return fail(row);
    if (!*row) continue;  // no account: the mailbox checks report that
    const std::int64_t quota = stmt->column_int64(1);
    const std::int64_t usage = stmt->column_int64(2);
    if (quota > 0 && usage > quota)
      return storage_error(Code::quota_exceeded,
                           "The quota of " + stmt->column_text(0) + " (" + std::to_string(quota) +
                               " bytes) would be exceeded: " + std::to_string(usage - bytes) +
                               " bytes are in use and " + std::to_string(bytes) +
                               " more were to be stored.");
  }
  return {};
}

}  // namespace postamt::storage
