#include "storage/sqlite/sqlite_mail_store.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <system_error>

#include "base/log.hpp"
#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_schema.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {
namespace {

using namespace sqlite;

constexpr std::string_view kDatabaseFile = "index.sqlite3";

}  // namespace

SqliteMailStore::SqliteMailStore(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    throw std::runtime_error("cannot create the data directory " + data_dir.string() + ": " +
                             ec.message());
  const std::filesystem::path file = data_dir / kDatabaseFile;
  db_ = std::make_unique<sqlite::Database>(file);
  auto version = sqlite::migrate(*db_);
  if (!version)
    throw std::runtime_error("cannot prepare the index database " + file.string() + ": " +
                             version.error().message);
  schema_version_ = *version;
}

SqliteMailStore::~SqliteMailStore() = default;

std::unique_ptr<MailStore> open_sqlite_store(const std::filesystem::path& data_dir) {
  return std::make_unique<SqliteMailStore>(data_dir);
}

int SqliteMailStore::schema_version() {
  std::lock_guard lock(mutex_);
  return schema_version_;
}

// --- domains

// --- change notification

void SqliteMailStore::set_change_listener(ChangeListener listener) {
  std::lock_guard lock(mutex_);
  listener_ = listener ? std::make_shared<const ChangeListener>(std::move(listener)) : nullptr;
}

void SqliteMailStore::notify(const std::shared_ptr<const ChangeListener>& listener,
                             std::vector<Id> changed) {
  if (!listener) return;
  std::ranges::sort(changed);
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  // The change is committed whatever the listener does; an exception must not reach the
  // caller as if the store call had failed.
  try {
    (*listener)(changed);
  } catch (const std::exception& e) {
    log::error("store_change_listener_failed", {{"error", e.what()}});
  } catch (...) {
    log::error("store_change_listener_failed", {{"error", "unknown exception"}});
  }
}

void SqliteMailStore::add_growth(AccountGrowth& growth, Id account_id, std::int64_t bytes) {
  for (auto& [id, total] : growth)
    if (id == account_id) {
      total += bytes;
      return;
    }
  growth.emplace_back(account_id, bytes);
}

// --- domains

StoreResult<DomainRecord> SqliteMailStore::find_domain_locked(const std::string& name) {
  auto stmt = db_->prepare("SELECT id, name, created_at FROM domains WHERE name = ?1");
  if (!stmt) return fail(stmt);
  stmt->bind(1, name);
  return single(*stmt, read_domain, "The domain " + name + " does not exist.");
}

StoreResult<DomainRecord> SqliteMailStore::add_domain(std::string_view name) {
  auto normalized = normalize_domain_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  if (auto existing = find_domain_locked(*normalized); existing)
    return storage_error(Code::already_exists, "The domain " + *normalized + " already exists.");
  else if (existing.error().code != Code::not_found)
    return fail(existing);
  DomainRecord record{0, *normalized, now_seconds()};
  {
    auto stmt = db_->prepare("INSERT INTO domains(name, created_at) VALUES (?1, ?2)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, record.name).bind(2, record.created_at).run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return record;
}

StoreResult<std::vector<DomainRecord>> SqliteMailStore::list_domains() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT id, name, created_at FROM domains ORDER BY name");
  if (!stmt) return fail(stmt);
  return collect(*stmt, read_domain);
}

StoreResult<DomainRecord> SqliteMailStore::find_domain(std::string_view name) {
  auto normalized = normalize_domain_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  return find_domain_locked(*normalized);
}

StoreResult<void> SqliteMailStore::delete_domain(std::string_view name) {
  auto normalized = normalize_domain_name(name);
  if (!normalized) return invalid(normalized.error());
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto domain = find_domain_locked(*normalized);
  if (!domain) return fail(domain);
  {
    auto stmt = db_->prepare(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE domain_id = ?1), "
        "EXISTS (SELECT 1 FROM aliases WHERE domain_id = ?1)");
    if (!stmt) return fail(stmt);
    auto row = stmt->bind(1, domain->id).step();
    if (!row) return fail(row);
    if (*row && (stmt->column_int64(0) != 0 || stmt->column_int64(1) != 0))
      return storage_error(
          Code::conflict,
          "The domain " + *normalized + " still has accounts or aliases; delete them first.");
  }
  {
    auto stmt = db_->prepare("DELETE FROM domains WHERE id = ?1");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, domain->id).run();
    if (!done) return fail(done);
  }
  return txn->commit();
}

}  // namespace postamt::storage
