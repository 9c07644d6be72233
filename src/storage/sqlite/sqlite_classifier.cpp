// SqliteMailStore: the built-in spam classifier's token counts and lesson totals (schema
// version 8; storage/api/classifier_types.hpp). Hashes are 64-bit and stored as SQLite's
// signed INTEGER (the same bits).
#include <algorithm>
#include <bit>
#include <unordered_map>

#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

constexpr std::size_t kMaxTokens = 5000;
constexpr std::size_t kMaxAccountOctets = 320;
// Tokens looked up per statement: one SQL text (the statement cache keeps it), the last
// chunk padded with its first hash (IN ignores the repeats).
constexpr std::size_t kLookupChunk = 100;

StoreResult<void> validate_account(std::string_view account) {
  if (account.size() > kMaxAccountOctets || has_control(account))
    return invalid("The account '" + std::string(account.substr(0, 64)) + "' is not a valid address.");
  return {};
}

std::int64_t stored(std::uint64_t hash) { return std::bit_cast<std::int64_t>(hash); }
std::uint64_t loaded(std::int64_t value) { return std::bit_cast<std::uint64_t>(value); }

std::uint32_t count32(std::int64_t value) {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(value, 0, 0xffffffffLL));
}

std::string lookup_sql() {
  std::string sql = "SELECT account = '' AS shared, hash, spam, ham FROM classifier_tokens "
                    "WHERE account IN (?1, '') AND hash IN (";
  for (std::size_t i = 0; i < kLookupChunk; ++i) sql += (i ? ",?" : "?") + std::to_string(i + 2);
  return sql + ")";
}

}  // namespace

StoreResult<ClassifierSnapshot> SqliteMailStore::classifier_snapshot(std::string_view account,
                                                                     std::span<const std::uint64_t> tokens) {
  if (auto ok = validate_account(account); !ok) return fail(ok);
  tokens = tokens.first(std::min(tokens.size(), kMaxTokens));
  static const std::string kLookup = lookup_sql();
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  ClassifierSnapshot snapshot;
  {
    auto stmt = db_->prepare("SELECT account = '' AS shared, spam, ham FROM classifier_totals WHERE account IN (?1, '')");
    if (!stmt) return fail(stmt);
    stmt->bind(1, account);
    while (true) {
      auto row = stmt->step();
      if (!row) return fail(row);
      if (!*row) break;
      ClassifierTotals& totals = stmt->column_int64(0) != 0 ? snapshot.shared : snapshot.account;
      totals.spam = static_cast<std::uint64_t>(stmt->column_int64(1));
      totals.ham = static_cast<std::uint64_t>(stmt->column_int64(2));
    }
    if (account.empty()) snapshot.account = snapshot.shared;
  }
  std::unordered_map<std::uint64_t, std::size_t> index;
  for (std::size_t start = 0; start < tokens.size(); start += kLookupChunk) {
    auto stmt = db_->prepare(kLookup);
    if (!stmt) return fail(stmt);
    stmt->bind(1, account);
    for (std::size_t i = 0; i < kLookupChunk; ++i) {
      const std::size_t at = start + i < tokens.size() ? start + i : start;
      stmt->bind(static_cast<int>(i + 2), stored(tokens[at]));
    }
    while (true) {
      auto row = stmt->step();
      if (!row) return fail(row);
      if (!*row) break;
      const bool shared = stmt->column_int64(0) != 0;
      const std::uint64_t hash = loaded(stmt->column_int64(1));
      auto [it, fresh] = index.try_emplace(hash, snapshot.tokens.size());
      if (fresh) snapshot.tokens.push_back(ClassifierTokenCounts{hash, 0, 0, 0, 0});
      ClassifierTokenCounts& counts = snapshot.tokens[it->second];
      const std::uint32_t spam = count32(stmt->column_int64(2));
      const std::uint32_t ham = count32(stmt->column_int64(3));
      if (shared) {
        counts.shared_spam = spam;
        counts.shared_ham = ham;
      }
      if (!shared || account.empty()) {
        counts.spam = spam;
        counts.ham = ham;
      }
    }
  }
  return snapshot;
}

StoreResult<void> SqliteMailStore::record_classifier_lesson(const ClassifierLesson& lesson) {
  if (auto ok = validate_account(lesson.account); !ok) return fail(ok);
  const UnixTime at = lesson.at != 0 ? lesson.at : now_seconds();
  const std::size_t count = std::min(lesson.tokens.size(), kMaxTokens);
  const std::string column = lesson.spam ? "spam" : "ham";
  std::vector<std::string> owners{""};
  if (!lesson.account.empty()) owners.push_back(lesson.account);
  std::lock_guard lock(mutex_);
  // Not synced: losing the last lessons in a power cut costs little.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  const std::string upsert = "INSERT INTO classifier_tokens(account, hash, " + column +
                             ", last_seen) VALUES (?1, ?2, 1, ?3) ON CONFLICT(account, hash) DO UPDATE SET " +
                             column + " = " + column + " + 1, last_seen = excluded.last_seen";
  for (const std::string& owner : owners) {
    for (std::size_t i = 0; i < count; ++i) {
      auto token = db_->prepare(upsert);  // cached; a fresh use binds a reset statement
      if (!token) return fail(token);
      if (auto done = token->bind(1, owner).bind(2, stored(lesson.tokens[i])).bind(3, at).run(); !done)
        return fail(done);
    }
    auto totals = db_->prepare("INSERT INTO classifier_totals(account, " + column + ", updated_at) VALUES (?1, 1, ?2) "
                               "ON CONFLICT(account) DO UPDATE SET " + column + " = " + column +
                               " + 1, updated_at = excluded.updated_at");
    if (!totals) return fail(totals);
    if (auto done = totals->bind(1, owner).bind(2, at).run(); !done) return fail(done);
  }
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return {};
}

StoreResult<ClassifierTotals> SqliteMailStore::classifier_stats(std::string_view account) {
  if (auto ok = validate_account(account); !ok) return fail(ok);
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  ClassifierTotals totals;
  auto stmt = db_->prepare("SELECT spam, ham, updated_at FROM classifier_totals WHERE account = ?1");
  if (!stmt) return fail(stmt);
  auto row = stmt->bind(1, account).step();
  if (!row) return fail(row);
  if (*row) {
    totals.spam = static_cast<std::uint64_t>(stmt->column_int64(0));
    totals.ham = static_cast<std::uint64_t>(stmt->column_int64(1));
    totals.updated_at = stmt->column_int64(2);
  }
  auto tokens = db_->prepare("SELECT count(*) FROM classifier_tokens WHERE account = ?1");
  if (!tokens) return fail(tokens);
  auto counted = tokens->bind(1, account).step();
  if (!counted) return fail(counted);
  if (*counted) totals.tokens = static_cast<std::uint64_t>(tokens->column_int64(0));
  return totals;
}

StoreResult<std::size_t> SqliteMailStore::prune_classifier_tokens(UnixTime seen_before, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  // classifier_tokens_age indexes exactly the rows seen once, by age.
  auto stmt = db_->prepare(
      "DELETE FROM classifier_tokens WHERE (account, hash) IN ("
      "SELECT account, hash FROM classifier_tokens WHERE spam + ham <= 1 AND last_seen < ?1 LIMIT ?2)");
  if (!stmt) return fail(stmt);
  if (auto done = stmt->bind(1, seen_before).bind(2, static_cast<std::int64_t>(limit)).run(); !done) return fail(done);
  const auto removed = static_cast<std::size_t>(db_->changes());
  if (auto committed = txn->commit(); !committed) return fail(committed);
  return removed;
}

}  // namespace postamt::storage
