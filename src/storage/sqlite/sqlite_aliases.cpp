// SqliteMailStore: aliases.
#include <algorithm>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

// --- aliases

StoreResult<AliasRecord> SqliteMailStore::add_alias(std::string_view source,
                                                    std::string_view destination) {
  auto src = normalize_alias_source(source);
  if (!src) return invalid("Alias source: " + src.error());
  auto dst = normalize_address(destination);
  if (!dst) return invalid("Alias destination: " + dst.error());
  // Addresses compare case-insensitively for ASCII, like the NOCASE columns.
  const auto lower = [](std::string text) {
    std::ranges::transform(text, text.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return text;
  };
  if (lower(*src) == lower(*dst)) return invalid("An alias cannot point to itself.");
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  const std::string domain_name(domain_of(*src));
  auto domain = find_domain_locked(domain_name);
  if (!domain) {
    if (domain.error().code == Code::not_found)
      return storage_error(Code::not_found,
                           "The domain " + domain_name + " is not a local domain; add it first.");
    return fail(domain);
  }
  {
    auto stmt = db_->prepare("SELECT 1 FROM aliases WHERE source = ?1 AND destination = ?2");
    if (!stmt) return fail(stmt);
    auto found = exists(stmt->bind(1, *src).bind(2, *dst));
    if (!found) return fail(found);
    if (*found)
      return storage_error(Code::already_exists,
                           "The alias " + *src + " -> " + *dst + " already exists.");
  }
  AliasRecord record{0, *src, *dst};
  {
    auto stmt =
        db_->prepare("INSERT INTO aliases(domain_id, source, destination) VALUES (?1, ?2, ?3)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, domain->id).bind(2, record.source).bind(3, record.destination).run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return record;
}

StoreResult<std::vector<AliasRecord>> SqliteMailStore::list_aliases(std::string_view domain) {
  std::string normalized;
  if (!domain.empty()) {
    auto name = normalize_domain_name(domain);
    if (!name) return invalid(name.error());
    normalized = std::move(*name);
  }
  std::lock_guard lock(mutex_);
  if (normalized.empty()) {
    auto stmt =
        db_->prepare("SELECT id, source, destination FROM aliases ORDER BY source, destination");
    if (!stmt) return fail(stmt);
    return collect(*stmt, read_alias);
  }
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = find_domain_locked(normalized);
  if (!found) return fail(found);
  auto stmt = db_->prepare(
      "SELECT id, source, destination FROM aliases WHERE domain_id = ?1 "
      "ORDER BY source, destination");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, found->id), read_alias);
}

StoreResult<std::vector<AliasRecord>> SqliteMailStore::find_aliases(std::string_view source) {
  auto src = normalize_alias_source(source);
  if (!src) return invalid("Alias source: " + src.error());
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "SELECT id, source, destination FROM aliases WHERE source = ?1 ORDER BY destination");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, *src), read_alias);
}

StoreResult<void> SqliteMailStore::delete_alias(std::string_view source,
                                                std::string_view destination) {
  auto src = normalize_alias_source(source);
  if (!src) return invalid("Alias source: " + src.error());
  std::string dst;
  if (!destination.empty()) {
    auto normalized = normalize_address(destination);
    if (!normalized) return invalid("Alias destination: " + normalized.error());
    dst = std::move(*normalized);
  }
  std::lock_guard lock(mutex_);
  auto stmt = dst.empty()
                  ? db_->prepare("DELETE FROM aliases WHERE source = ?1")
                  : db_->prepare("DELETE FROM aliases WHERE source = ?1 AND destination = ?2");
  if (!stmt) return fail(stmt);
  stmt->bind(1, *src);
  if (!dst.empty()) stmt->bind(2, dst);
  auto done = stmt->run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found,
                         dst.empty() ? "No alias of " + *src + " exists."
                                     : "The alias " + *src + " -> " + dst + " does not exist.");
  return {};
}

}  // namespace postamt::storage
