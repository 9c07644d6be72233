// SqliteMailStore: security events and bans (schema version 7, issue 15 §7 and §8).
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

constexpr std::size_t kMaxText = 320;
constexpr std::size_t kMaxFields = 4000;

// Event text comes from clients (user names, addresses): cut, and controls replaced, so a
// row is always one line.
std::string clean(std::string_view text, std::size_t limit = kMaxText) {
  std::string out(text.substr(0, limit));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

SecurityEventRow read_event(const Statement& row) {
  SecurityEventRow event;
  event.id = row.column_int64(0);
  event.at = row.column_int64(1);
  event.kind = row.column_text(2);
  event.ip = row.column_text(3);
  event.account = row.column_text(4);
  event.protocol = row.column_text(5);
  event.fields = row.column_text(6);
  return event;
}

BanRow read_ban(const Statement& row) {
  BanRow ban;
  ban.target = row.column_text(0);
  ban.reason = row.column_text(1);
  ban.detail = row.column_text(2);
  ban.banned_at = row.column_int64(3);
  ban.until = row.column_int64(4);
  ban.offences = static_cast<std::uint32_t>(row.column_int64(5));
  return ban;
}

constexpr std::string_view kBanColumns = "target, reason, detail, banned_at, until, offences";

}  // namespace

StoreResult<void> SqliteMailStore::add_security_events(std::span<const SecurityEventRow> events) {
  if (events.empty()) return {};
  std::lock_guard lock(mutex_);
  // Not synced: a power cut may lose the last events, never mail.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  const UnixTime now = now_seconds();
  for (const auto& e : events) {
    auto stmt = db_->prepare(
        "INSERT INTO security_events(at, kind, ip, account, protocol, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt) return fail(stmt);
    // The fields are JSON made by the security module; one cut short would not parse.
    const std::string fields = e.fields.size() > kMaxFields || e.fields.empty() ? "{}" : clean(e.fields, kMaxFields);
    auto done = stmt->bind(1, e.at > 0 ? e.at : now)
                    .bind(2, clean(e.kind, 64))
                    .bind(3, clean(e.ip, 64))
                    .bind(4, clean(e.account))
                    .bind(5, clean(e.protocol, 32))
                    .bind(6, fields)
                    .run();
    if (!done) return fail(done);
  }
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return {};
}

StoreResult<std::vector<SecurityEventRow>> SqliteMailStore::security_events(const SecurityEventQuery& query) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "SELECT * FROM (SELECT id, at, kind, ip, account, protocol, fields FROM security_events "
      "WHERE at >= ?1 AND (?2 = '' OR account = ?2) AND (?3 = '' OR kind = ?3) AND (?4 = '' OR ip = ?4) "
      "ORDER BY id DESC LIMIT ?5) ORDER BY id");
  if (!stmt) return fail(stmt);
  const auto limit = static_cast<std::int64_t>(std::min<std::size_t>(query.limit, 1'000'000));
  return collect(stmt->bind(1, query.since).bind(2, query.account).bind(3, query.kind).bind(4, query.ip).bind(5, limit),
                 read_event);
}

StoreResult<std::size_t> SqliteMailStore::prune_security_events(UnixTime before, std::size_t keep_rows) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  std::size_t removed = 0;
  {
    auto stmt = db_->prepare("DELETE FROM security_events WHERE at < ?1");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, before).run(); !done) return fail(done);
    removed += static_cast<std::size_t>(db_->changes());
  }
  {
    auto stmt = db_->prepare(
        "DELETE FROM security_events WHERE id <= (SELECT id FROM security_events ORDER BY id DESC LIMIT 1 OFFSET ?1)");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, static_cast<std::int64_t>(keep_rows)).run(); !done) return fail(done);
    removed += static_cast<std::size_t>(db_->changes());
  }
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return removed;
}

StoreResult<void> SqliteMailStore::put_ban(const BanRow& ban) {
  if (ban.target.empty() || ban.target.size() > 64 || has_control(ban.target))
    return invalid("A ban's target is an address or network.");
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "INSERT INTO security_bans(target, reason, detail, banned_at, until, offences) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(target) DO UPDATE SET reason = ?2, detail = ?3, banned_at = ?4, until = ?5, offences = ?6");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, ban.target)
                  .bind(2, clean(ban.reason, 64))
                  .bind(3, clean(ban.detail, 1000))
                  .bind(4, ban.banned_at)
                  .bind(5, ban.until)
                  .bind(6, static_cast<std::int64_t>(ban.offences))
                  .run();
  if (!done) return fail(done);
  return {};
}

StoreResult<std::vector<BanRow>> SqliteMailStore::list_bans(UnixTime after) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT " + std::string(kBanColumns) + " FROM security_bans WHERE until > ?1 ORDER BY target");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, after), read_ban);
}

StoreResult<std::vector<BanRow>> SqliteMailStore::lift_bans(std::span<const std::string> targets, UnixTime now) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  std::vector<BanRow> lifted;
  for (const auto& target : targets) {
    auto select = db_->prepare("SELECT " + std::string(kBanColumns) + " FROM security_bans WHERE target = ?1 AND until > ?2");
    if (!select) return fail(select);
    auto rows = collect(select->bind(1, target).bind(2, now), read_ban);
    if (!rows) return fail(rows);
    if (rows->empty()) continue;
    auto update = db_->prepare("UPDATE security_bans SET until = ?2 WHERE target = ?1");
    if (!update) return fail(update);
    if (auto done = update->bind(1, target).bind(2, now).run(); !done) return fail(done);
    lifted.push_back(std::move(rows->front()));
  }
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return lifted;
}

StoreResult<std::size_t> SqliteMailStore::prune_bans(UnixTime before) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("DELETE FROM security_bans WHERE until < ?1");
  if (!stmt) return fail(stmt);
  if (auto done = stmt->bind(1, before).run(); !done) return fail(done);
  return static_cast<std::size_t>(db_->changes());
}

}  // namespace postamt::storage
