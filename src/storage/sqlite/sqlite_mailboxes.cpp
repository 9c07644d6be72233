// SqliteMailStore: mailboxes, their STATUS counters and the \Recent mark.
#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

// --- mailboxes

StoreResult<MailboxRecord> SqliteMailStore::find_mailbox_locked(Id account_id,
                                                                const std::string& name) {
  auto stmt = db_->prepare(
      "SELECT id, account_id, name, uidvalidity, uidnext, highestmodseq, special_use, "
      "message_count, total_size FROM mailboxes WHERE account_id = ?1 AND name = ?2");
  if (!stmt) return fail(stmt);
  stmt->bind(1, account_id).bind(2, name);
  return single(*stmt, read_mailbox, "The mailbox " + name + " does not exist.");
}

StoreResult<void> SqliteMailStore::require_mailbox_locked(Id mailbox_id) {
  auto stmt = db_->prepare("SELECT 1 FROM mailboxes WHERE id = ?1");
  if (!stmt) return fail(stmt);
  auto found = exists(stmt->bind(1, mailbox_id));
  if (!found) return fail(found);
  if (!*found)
    return storage_error(Code::not_found,
                         "The mailbox with id " + std::to_string(mailbox_id) + " does not exist.");
  return {};
}

// UIDVALIDITY (RFC 9051 §2.3.1.1) must never repeat for a mailbox name, also after the
// mailbox is deleted and created again. The value is the current time in seconds, but at
// least one more than any value handed out before in this database, so it stays strictly
// increasing even for many creations per second or a clock stepped backwards.
StoreResult<std::uint32_t> SqliteMailStore::next_uidvalidity_locked() {
  auto stmt = db_->prepare(
      "UPDATE meta SET value = max(value + 1, ?1) WHERE key = 'last_uidvalidity' "
      "RETURNING value");
  if (!stmt) return fail(stmt);
  auto value = single(
      stmt->bind(1, now_seconds()), [](const Statement& s) { return s.column_int64(0); },
      "The UIDVALIDITY counter is missing from the schema.");
  if (!value) return fail(value);
  if (*value <= 0 || *value > kMaxUid)
    return storage_error(Code::conflict, "The UIDVALIDITY counter is exhausted.");
  return static_cast<std::uint32_t>(*value);
}

StoreResult<MailboxRecord> SqliteMailStore::create_mailbox_locked(Id account_id,
                                                                  const std::string& name,
                                                                  SpecialUse special_use) {
  auto uidvalidity = next_uidvalidity_locked();
  if (!uidvalidity) return fail(uidvalidity);
  MailboxRecord record;
  record.account_id = account_id;
  record.name = name;
  record.uidvalidity = *uidvalidity;
  record.special_use = special_use;
  auto stmt = db_->prepare(
      "INSERT INTO mailboxes(account_id, name, uidvalidity, uidnext, highestmodseq, special_use) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, account_id)
                  .bind(2, name)
                  .bind(3, static_cast<std::int64_t>(record.uidvalidity))
                  .bind(4, static_cast<std::int64_t>(record.uidnext))
                  .bind(5, static_cast<std::int64_t>(record.highestmodseq))
                  .bind(6, special_use_name(special_use))
                  .run();
  if (!done) {
    if (done.error().code == Code::already_exists)
      done.error().message = "The mailbox " + name + " already exists.";
    return fail(done);
  }
  record.id = db_->last_insert_rowid();
  return record;
}

StoreResult<MailboxRecord> SqliteMailStore::create_mailbox(Id account_id, std::string_view name,
                                                           SpecialUse special_use) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto account = require_account_locked(account_id);
  if (!account) return fail(account);
  if (auto existing = find_mailbox_locked(account_id, *normalized); existing)
    return storage_error(Code::already_exists, "The mailbox " + *normalized + " already exists.");
  else if (existing.error().code != Code::not_found)
    return fail(existing);
  auto record = create_mailbox_locked(account_id, *normalized, special_use);
  if (!record) return record;
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return record;
}

StoreResult<std::vector<MailboxRecord>> SqliteMailStore::list_mailboxes(Id account_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto account = require_account_locked(account_id);
  if (!account) return fail(account);
  auto stmt = db_->prepare(
      "SELECT id, account_id, name, uidvalidity, uidnext, highestmodseq, special_use, "
      "message_count, total_size FROM mailboxes WHERE account_id = ?1 ORDER BY name");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, account_id), read_mailbox);
}

StoreResult<MailboxRecord> SqliteMailStore::find_mailbox(Id account_id, std::string_view name) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  return find_mailbox_locked(account_id, *normalized);
}

StoreResult<void> SqliteMailStore::rename_mailbox(Id account_id, std::string_view from,
                                                  std::string_view to) {
  auto old_name = normalize_mailbox_name(from);
  if (!old_name) return invalid(old_name.error());
  auto new_name = normalize_mailbox_name(to);
  if (!new_name) return invalid(new_name.error());
  // RFC 9051 §6.3.6 gives RENAME INBOX its own meaning (move the messages into a new
  // mailbox, leave INBOX empty); the IMAP layer implements that with append and expunge.
  if (*old_name == kInbox) return invalid("INBOX cannot be renamed by the store.");
  if (new_name->starts_with(*old_name + "/"))
    return invalid("A mailbox cannot be renamed into its own hierarchy.");
  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<void> {
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail(txn);
    auto source = find_mailbox_locked(account_id, *old_name);
    if (!source) return fail(source);

    // The mailbox and every inferior ("a/b" when "a" moves) keep their rows, and so their
    // UIDVALIDITY, UIDs and messages; only the names change. Names compare bytewise, so the
    // inferiors of "a" are exactly the names in ["a/", "a0") ('0' follows '/').
    std::vector<std::pair<Id, std::string>> renames;
    renames.emplace_back(source->id, *new_name);
    {
      auto stmt = db_->prepare(
          "SELECT id, name FROM mailboxes WHERE account_id = ?1 AND name >= ?2 AND name < ?3 "
          "ORDER BY name");
      if (!stmt) return fail(stmt);
      auto children =
          collect(stmt->bind(1, account_id).bind(2, *old_name + "/").bind(3, *old_name + "0"),
                  [](const Statement& s) {
                    return std::pair<Id, std::string>(s.column_int64(0), s.column_text(1));
                  });
      if (!children) return fail(children);
      for (auto& [id, name] : *children)
        renames.emplace_back(id, *new_name + name.substr(old_name->size()));
    }
    for (const auto& [id, name] : renames) {
      auto valid = normalize_mailbox_name(name);
      if (!valid) return invalid("Renaming would create an invalid name: " + valid.error());
      auto existing = find_mailbox_locked(account_id, name);
      if (existing)
        return storage_error(Code::already_exists, "The mailbox " + name + " already exists.");
      if (existing.error().code != Code::not_found) return fail(existing);
    }
    for (const auto& [id, name] : renames) {
      auto stmt = db_->prepare("UPDATE mailboxes SET name = ?2 WHERE id = ?1");
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, id).bind(2, name).run();
      if (!done) return done;
    }
    // Subscriptions stay as they are: they name mailboxes that need not exist (RFC 9051
    // §6.3.7); moving them along is the IMAP layer's choice.
    auto committed = txn->commit();
    if (!committed) return committed;
    for (const auto& rename : renames) changed.push_back(rename.first);
    return {};
  });
}

StoreResult<void> SqliteMailStore::delete_mailbox(Id account_id, std::string_view name) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return invalid(normalized.error());
  if (*normalized == kInbox) return invalid("INBOX cannot be deleted.");  // RFC 9051 §6.3.5
  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<void> {
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail(txn);
    // The messages and expunge records go by ON DELETE CASCADE; the message triggers drop
    // the blob references.
    auto stmt =
        db_->prepare("DELETE FROM mailboxes WHERE account_id = ?1 AND name = ?2 RETURNING id");
    if (!stmt) return fail(stmt);
    auto deleted = collect(stmt->bind(1, account_id).bind(2, *normalized),
                           [](const Statement& s) { return s.column_int64(0); });
    if (!deleted) return fail(deleted);
    if (deleted->empty())
      return storage_error(Code::not_found, "The mailbox " + *normalized + " does not exist.");
    auto committed = txn->commit();
    if (!committed) return committed;
    changed = std::move(*deleted);
    return {};
  });
}

// --- IMAP access

StoreResult<MailboxRecord> SqliteMailStore::find_mailbox_by_id_locked(Id mailbox_id) {
  static const std::string sql =
      "SELECT " + std::string(kMailboxColumns) + " FROM mailboxes WHERE id = ?1";
  auto stmt = db_->prepare(sql);
  if (!stmt) return fail(stmt);
  return single(stmt->bind(1, mailbox_id), read_mailbox,
                "The mailbox with id " + std::to_string(mailbox_id) + " does not exist.");
}

StoreResult<MailboxRecord> SqliteMailStore::find_mailbox_by_id(Id mailbox_id) {
  std::lock_guard lock(mutex_);
  return find_mailbox_by_id_locked(mailbox_id);
}

// STATUS (RFC 9051 §6.3.11): the counters come from the mailbox row (kept by triggers);
// only RECENT counts rows, and only those at or above the recent mark.
StoreResult<MailboxStatus> SqliteMailStore::mailbox_status(Id mailbox_id) {
  static const std::string sql =
      "SELECT " + std::string(kMailboxColumns) +
      ", unseen_count, deleted_count, (SELECT count(*) FROM messages "
      "WHERE mailbox_id = mailboxes.id AND uid >= mailboxes.first_recent_uid) "
      "FROM mailboxes WHERE id = ?1";
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(sql);
  if (!stmt) return fail(stmt);
  return single(
      stmt->bind(1, mailbox_id),
      [](const Statement& s) {
        MailboxStatus status;
        status.mailbox = read_mailbox(s);
        status.unseen = static_cast<std::uint32_t>(s.column_int64(9));
        status.deleted = static_cast<std::uint32_t>(s.column_int64(10));
        status.recent = static_cast<std::uint32_t>(s.column_int64(11));
        return status;
      },
      "The mailbox with id " + std::to_string(mailbox_id) + " does not exist.");
}

// RFC 3501 §2.3.2: a message is recent in exactly one session, the first to select the
// mailbox after it arrived. The mark moves to UIDNEXT in the same write transaction that
// reads it, so two sessions cannot both claim the same messages.
StoreResult<std::uint32_t> SqliteMailStore::claim_recent(Id mailbox_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  std::uint32_t first_recent = 0;
  {
    auto stmt = db_->prepare("SELECT first_recent_uid, uidnext FROM mailboxes WHERE id = ?1");
    if (!stmt) return fail(stmt);
    auto row = stmt->bind(1, mailbox_id).step();
    if (!row) return fail(row);
    if (!*row)
      return storage_error(Code::not_found, "The mailbox with id " + std::to_string(mailbox_id) +
                                                " does not exist.");
    first_recent = static_cast<std::uint32_t>(stmt->column_int64(0));
    if (stmt->column_int64(0) == stmt->column_int64(1)) return first_recent;  // nothing new
  }
  auto stmt = db_->prepare("UPDATE mailboxes SET first_recent_uid = uidnext WHERE id = ?1");
  if (!stmt) return fail(stmt);
  if (auto done = stmt->bind(1, mailbox_id).run(); !done) return fail(done);
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return first_recent;
}

}  // namespace postamt::storage
