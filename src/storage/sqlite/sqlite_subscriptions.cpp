// SqliteMailStore: subscriptions.
#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

// --- subscriptions

StoreResult<void> SqliteMailStore::subscribe_locked(Id account_id, const std::string& name) {
  auto stmt = db_->prepare(
      "INSERT INTO subscriptions(account_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
  if (!stmt) return fail(stmt);
  return stmt->bind(1, account_id).bind(2, name).run();
}

StoreResult<void> SqliteMailStore::subscribe(Id account_id, std::string_view name) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto account = require_account_locked(account_id);
  if (!account) return fail(account);
  // Subscribing twice is not an error (RFC 9051 §6.3.7 lets names be subscribed freely).
  auto done = subscribe_locked(account_id, *normalized);
  if (!done) return done;
  return txn->commit();
}

StoreResult<void> SqliteMailStore::unsubscribe(Id account_id, std::string_view name) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, account_id).bind(2, *normalized).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found, "The name " + *normalized + " is not subscribed.");
  return {};
}

StoreResult<std::vector<std::string>> SqliteMailStore::list_subscriptions(Id account_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto account = require_account_locked(account_id);
  if (!account) return fail(account);
  auto stmt = db_->prepare("SELECT name FROM subscriptions WHERE account_id = ?1 ORDER BY name");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, account_id), [](const Statement& s) { return s.column_text(0); });
}

}  // namespace postamt::storage
