// SqliteMailStore: per-account outbound counts, correspondents and holds (schema version 6).
#include <algorithm>
#include <set>

#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

constexpr std::size_t kMaxAccountOctets = 320;
constexpr std::size_t kMaxDetailOctets = 1000;

StoreResult<void> validate_account(std::string_view account) {
  if (account.empty() || account.size() > kMaxAccountOctets || has_control(account))
    return invalid("The account '" + std::string(account.substr(0, 64)) + "' is not a valid address.");
  return {};
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

AccountHold read_hold(const Statement& stmt) {
  AccountHold hold;
  hold.account = stmt.column_text(0);
  hold.reason = stmt.column_text(1);
  hold.detail = stmt.column_text(2);
  hold.held_at = stmt.column_int64(3);
  hold.held_recipients = static_cast<std::uint64_t>(stmt.column_int64(4));
  return hold;
}

// Queued or deferred recipients of the account's messages: what its hold keeps back.
constexpr std::string_view kHoldColumns =
    "h.account, h.reason, h.detail, h.held_at, "
    "(SELECT count(*) FROM queue_messages m JOIN queue_recipients r ON r.message_id = m.id "
    " WHERE m.account = h.account AND r.state IN ('queued', 'deferred'))";

}  // namespace

StoreResult<std::optional<AccountHold>> SqliteMailStore::find_account_hold(std::string_view account) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT " + std::string(kHoldColumns) + " FROM account_holds h WHERE h.account = ?1");
  if (!stmt) return fail(stmt);
  auto rows = collect(stmt->bind(1, account), read_hold);
  if (!rows) return fail(rows);
  if (rows->empty()) return std::optional<AccountHold>();
  return std::optional<AccountHold>(std::move(rows->front()));
}

StoreResult<std::vector<AccountHold>> SqliteMailStore::list_account_holds() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT " + std::string(kHoldColumns) + " FROM account_holds h ORDER BY h.held_at, h.account");
  if (!stmt) return fail(stmt);
  return collect(*stmt, read_hold);
}

StoreResult<bool> SqliteMailStore::hold_account(const AccountHold& hold) {
  if (auto ok = validate_account(hold.account); !ok) return fail(ok);
  if (hold.reason.empty() || hold.reason.size() > 64 || has_control(hold.reason))
    return invalid("A hold reason is a short key.");
  if (hold.detail.size() > kMaxDetailOctets || has_control(hold.detail))
    return invalid("A hold's detail is one line of at most 1000 octets.");
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "INSERT INTO account_holds(account, reason, detail, held_at) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(account) DO NOTHING");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, hold.account)
                  .bind(2, hold.reason)
                  .bind(3, hold.detail)
                  .bind(4, hold.held_at != 0 ? hold.held_at : now_seconds())
                  .run();
  if (!done) return fail(done);
  return db_->changes() > 0;
}

StoreResult<AccountHold> SqliteMailStore::release_account_hold(std::string_view account, UnixTime now) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  AccountHold hold;
  {
    auto stmt = db_->prepare("SELECT " + std::string(kHoldColumns) + " FROM account_holds h WHERE h.account = ?1");
    if (!stmt) return fail(stmt);
    auto rows = collect(stmt->bind(1, account), read_hold);
    if (!rows) return fail(rows);
    if (rows->empty())
      return storage_error(Code::not_found, "The account " + std::string(account) + " is not held.");
    hold = std::move(rows->front());
  }
  {
    // The hold pauses the queue lifetime: each message gains the time it spent held.
    auto stmt = db_->prepare(
        "UPDATE queue_messages SET created_at = created_at + max(0, ?2 - max(created_at, ?3)) "
        "WHERE account = ?1");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, hold.account).bind(2, now).bind(3, hold.held_at).run(); !done) return fail(done);
  }
  {
    auto stmt = db_->prepare(
        "UPDATE queue_recipients SET next_attempt_at = ?2 "
        "WHERE state IN ('queued', 'deferred') AND next_attempt_at > ?2 "
        "AND message_id IN (SELECT id FROM queue_messages WHERE account = ?1)");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, hold.account).bind(2, now).run(); !done) return fail(done);
  }
  {
    // The account starts afresh: the last day's counts (which led to the hold) go, the
    // older hours stay as its baseline.
    auto stmt = db_->prepare("DELETE FROM outbound_hours WHERE account = ?1 AND hour >= ?2");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, hold.account).bind(2, now / 3600 * 3600 - 23 * 3600).run(); !done) return fail(done);
  }
  {
    auto stmt = db_->prepare("DELETE FROM account_holds WHERE account = ?1");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, hold.account).run(); !done) return fail(done);
  }
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return hold;
}

StoreResult<std::vector<OutboundHour>> SqliteMailStore::outbound_hours(std::string_view account, UnixTime since) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "SELECT hour, messages, recipients, new_recipients, delivered, bounced FROM outbound_hours "
      "WHERE account = ?1 AND hour >= ?2 ORDER BY hour");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, account).bind(2, since), [](const Statement& row) {
    OutboundHour hour;
    hour.hour = row.column_int64(0);
    hour.messages = static_cast<std::uint64_t>(row.column_int64(1));
    hour.recipients = static_cast<std::uint64_t>(row.column_int64(2));
    hour.new_recipients = static_cast<std::uint64_t>(row.column_int64(3));
    hour.delivered = static_cast<std::uint64_t>(row.column_int64(4));
    hour.bounced = static_cast<std::uint64_t>(row.column_int64(5));
    return hour;
  });
}

StoreResult<std::vector<std::string>> SqliteMailStore::new_correspondents(std::string_view account,
                                                                          std::span<const std::string> addresses) {
  std::set<std::string> unique;
  for (const auto& address : addresses) unique.insert(lower_ascii(address));
  std::vector<std::string> unknown;
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  for (const auto& address : unique) {
    auto stmt = db_->prepare("SELECT 1 FROM account_correspondents WHERE account = ?1 AND address = ?2");
    if (!stmt) return fail(stmt);
    auto row = stmt->bind(1, account).bind(2, address).step();
    if (!row) return fail(row);
    if (!*row) unknown.push_back(address);
  }
  return unknown;
}

StoreResult<std::size_t> SqliteMailStore::record_submission(const OutboundSubmission& submission) {
  if (auto ok = validate_account(submission.account); !ok) return fail(ok);
  std::set<std::string> unique;
  for (const auto& address : submission.recipients) {
    if (address.size() > 1000 || has_control(address)) return invalid("A recipient address is not valid.");
    unique.insert(lower_ascii(address));
  }
  const UnixTime at = submission.at != 0 ? submission.at : now_seconds();
  std::lock_guard lock(mutex_);
  // Not synced: a power cut may forget the last counts, which only makes limits kinder.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  std::size_t fresh = 0;
  for (const auto& address : unique) {
    auto stmt = db_->prepare(
        "INSERT INTO account_correspondents(account, address, last_used) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(account, address) DO UPDATE SET last_used = excluded.last_used");
    if (!stmt) return fail(stmt);
    // changes() counts an upsert's update too, so ask first.
    auto known = db_->prepare("SELECT 1 FROM account_correspondents WHERE account = ?1 AND address = ?2");
    if (!known) return fail(known);
    auto row = known->bind(1, submission.account).bind(2, address).step();
    if (!row) return fail(row);
    if (!*row) ++fresh;
    if (auto done = stmt->bind(1, submission.account).bind(2, address).bind(3, at).run(); !done) return fail(done);
  }
  {
    auto stmt = db_->prepare(
        "INSERT INTO outbound_hours(account, hour, messages, recipients, new_recipients) VALUES (?1, ?2, 1, ?3, ?4) "
        "ON CONFLICT(account, hour) DO UPDATE SET messages = messages + 1, "
        "recipients = recipients + excluded.recipients, new_recipients = new_recipients + excluded.new_recipients");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, submission.account)
                    .bind(2, at / 3600 * 3600)
                    .bind(3, static_cast<std::int64_t>(unique.size()))
                    .bind(4, static_cast<std::int64_t>(fresh))
                    .run();
    if (!done) return fail(done);
  }
  if (fresh > 0) {
    // The bound: the correspondents written to longest ago are forgotten first.
    auto stmt = db_->prepare(
        "DELETE FROM account_correspondents WHERE account = ?1 AND address IN ("
        "SELECT address FROM account_correspondents WHERE account = ?1 "
        "ORDER BY last_used DESC, address LIMIT -1 OFFSET ?2)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, submission.account)
                    .bind(2, static_cast<std::int64_t>(std::max<std::size_t>(submission.keep_known, 1)))
                    .run();
    if (!done) return fail(done);
  }
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return fresh;
}

StoreResult<std::vector<std::string>> SqliteMailStore::accounts_with_bounces(UnixTime since) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "SELECT DISTINCT account FROM outbound_hours WHERE hour >= ?1 AND bounced > 0 ORDER BY account");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, since), [](const Statement& row) { return row.column_text(0); });
}

StoreResult<std::size_t> SqliteMailStore::prune_outbound_hours(UnixTime before) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("DELETE FROM outbound_hours WHERE hour < ?1");
  if (!stmt) return fail(stmt);
  if (auto done = stmt->bind(1, before).run(); !done) return fail(done);
  return static_cast<std::size_t>(db_->changes());
}

}  // namespace postamt::storage
