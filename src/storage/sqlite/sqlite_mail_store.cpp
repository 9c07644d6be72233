#include "storage/sqlite/sqlite_mail_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/sqlite/sqlite_schema.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {
namespace {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;
using Code = StorageError::Code;

constexpr std::string_view kDatabaseFile = "index.sqlite3";
constexpr std::string_view kInbox = "INBOX";
constexpr std::int64_t kMaxUid = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMaxPasswordHashOctets = 1024;
constexpr std::size_t kMaxEnvelopeFieldOctets = 1000;

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

// Turns a failed result into the unexpected value of any other StoreResult.
template <class T>
std::unexpected<StorageError> fail(StoreResult<T>& result) {
  return std::unexpected(std::move(result.error()));
}

std::unexpected<StorageError> invalid(std::string message) {
  return storage_error(Code::invalid, std::move(message));
}

UnixTime now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool has_control(std::string_view text) {
  return std::ranges::any_of(text, [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

std::string_view special_use_name(SpecialUse use) {
  switch (use) {
    case SpecialUse::none:
      return "";
    case SpecialUse::drafts:
      return "drafts";
    case SpecialUse::sent:
      return "sent";
    case SpecialUse::trash:
      return "trash";
    case SpecialUse::junk:
      return "junk";
    case SpecialUse::archive:
      return "archive";
  }
  return "";
}

SpecialUse special_use_from_name(std::string_view name) {
  for (const SpecialUse use : {SpecialUse::drafts, SpecialUse::sent, SpecialUse::trash,
                               SpecialUse::junk, SpecialUse::archive})
    if (special_use_name(use) == name) return use;
  return SpecialUse::none;
}

std::string_view queue_state_name(QueueState state) {
  switch (state) {
    case QueueState::queued:
      return "queued";
    case QueueState::deferred:
      return "deferred";
    case QueueState::delivered:
      return "delivered";
    case QueueState::bounced:
      return "bounced";
    case QueueState::held:
      return "held";
  }
  return "queued";
}

QueueState queue_state_from_name(std::string_view name) {
  for (const QueueState state :
       {QueueState::deferred, QueueState::delivered, QueueState::bounced, QueueState::held})
    if (queue_state_name(state) == name) return state;
  return QueueState::queued;
}

std::string join_flags(const std::vector<std::string>& flags) {
  std::string out;
  for (const std::string& flag : flags) {
    if (!out.empty()) out.push_back(' ');
    out.append(flag);
  }
  return out;
}

std::vector<std::string> split_flags(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

DomainRecord read_domain(const Statement& stmt) {
  return DomainRecord{stmt.column_int64(0), stmt.column_text(1), stmt.column_int64(2)};
}

AccountRecord read_account(const Statement& stmt) {
  AccountRecord record;
  record.id = stmt.column_int64(0);
  record.address = stmt.column_text(1);
  record.password_hash = stmt.column_text(2);
  record.quota_bytes = static_cast<std::uint64_t>(stmt.column_int64(3));
  record.disabled = stmt.column_int64(4) != 0;
  record.created_at = stmt.column_int64(5);
  return record;
}

AliasRecord read_alias(const Statement& stmt) {
  return AliasRecord{stmt.column_int64(0), stmt.column_text(1), stmt.column_text(2)};
}

MailboxRecord read_mailbox(const Statement& stmt) {
  MailboxRecord record;
  record.id = stmt.column_int64(0);
  record.account_id = stmt.column_int64(1);
  record.name = stmt.column_text(2);
  record.uidvalidity = static_cast<std::uint32_t>(stmt.column_int64(3));
  record.uidnext = static_cast<std::uint32_t>(stmt.column_int64(4));
  record.highestmodseq = static_cast<std::uint64_t>(stmt.column_int64(5));
  record.special_use = special_use_from_name(stmt.column_text(6));
  record.message_count = static_cast<std::uint32_t>(stmt.column_int64(7));
  record.total_size = static_cast<std::uint64_t>(stmt.column_int64(8));
  return record;
}

MessageRecord read_message(const Statement& stmt) {
  MessageRecord record;
  record.id = stmt.column_int64(0);
  record.mailbox_id = stmt.column_int64(1);
  record.uid = static_cast<std::uint32_t>(stmt.column_int64(2));
  record.modseq = static_cast<std::uint64_t>(stmt.column_int64(3));
  record.flags = split_flags(stmt.column_text(4));
  record.internal_date = stmt.column_int64(5);
  record.size = static_cast<std::uint64_t>(stmt.column_int64(6));
  record.blob_id = stmt.column_text(7);
  record.mime_metadata = stmt.column_blob(8);
  return record;
}

QueueMessage read_queue_message(const Statement& stmt) {
  QueueMessage record;
  record.id = stmt.column_int64(0);
  record.sender = stmt.column_text(1);
  record.blob_id = stmt.column_text(2);
  record.size = static_cast<std::uint64_t>(stmt.column_int64(3));
  record.envid = stmt.column_text(4);
  record.ret = stmt.column_text(5);
  record.created_at = stmt.column_int64(6);
  return record;
}

QueueRecipient read_queue_recipient(const Statement& stmt) {
  QueueRecipient record;
  record.id = stmt.column_int64(0);
  record.message_id = stmt.column_int64(1);
  record.address = stmt.column_text(2);
  record.orcpt = stmt.column_text(3);
  record.notify = stmt.column_text(4);
  record.state = queue_state_from_name(stmt.column_text(5));
  record.attempts = static_cast<unsigned>(stmt.column_int64(6));
  record.next_attempt_at = stmt.column_int64(7);
  record.last_reply = stmt.column_text(8);
  return record;
}

// Runs a query and collects every row through `read`.
template <class Read>
auto collect(Statement& stmt, Read read) -> StoreResult<std::vector<decltype(read(stmt))>> {
  std::vector<decltype(read(stmt))> rows;
  while (true) {
    auto row = stmt.step();
    if (!row) return fail(row);
    if (!*row) return rows;
    rows.push_back(read(stmt));
  }
}

// Runs a query expected to return at most one row; not_found with `missing` when none.
template <class Read>
auto single(Statement& stmt, Read read, std::string missing) -> StoreResult<decltype(read(stmt))> {
  auto row = stmt.step();
  if (!row) return fail(row);
  if (!*row) return storage_error(Code::not_found, std::move(missing));
  return read(stmt);
}

StoreResult<bool> exists(Statement& stmt) {
  auto row = stmt.step();
  if (!row) return fail(row);
  return *row;
}

StoreResult<std::string> validate_password_hash(std::string_view hash) {
  if (hash.size() > kMaxPasswordHashOctets)
    return invalid("The password hash is longer than 1024 octets.");
  if (has_control(hash)) return invalid("The password hash holds a control character.");
  return std::string(hash);
}

StoreResult<void> validate_envelope_field(std::string_view value, std::string_view what) {
  if (value.size() > kMaxEnvelopeFieldOctets)
    return invalid("The " + std::string(what) + " is longer than 1000 octets.");
  // CR and LF in an envelope field would let it smuggle SMTP commands when relayed.
  if (has_control(value))
    return invalid("The " + std::string(what) + " holds a control character.");
  return {};
}

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
  std::lock_guard lock(mutex_);
  // ON DELETE CASCADE removes mailboxes, messages and subscriptions; the message triggers
  // drop the blob references. One statement, so one implicit transaction.
  auto stmt = db_->prepare("DELETE FROM accounts WHERE address = ?1");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, *normalized).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found, "The account " + *normalized + " does not exist.");
  return {};
}

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
  std::lock_guard lock(mutex_);
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
  return txn->commit();
}

StoreResult<void> SqliteMailStore::delete_mailbox(Id account_id, std::string_view name) {
  auto normalized = normalize_mailbox_name(name);
  if (!normalized) return invalid(normalized.error());
  if (*normalized == kInbox) return invalid("INBOX cannot be deleted.");  // RFC 9051 §6.3.5
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("DELETE FROM mailboxes WHERE account_id = ?1 AND name = ?2");
  if (!stmt) return fail(stmt);
  // The messages go by ON DELETE CASCADE; their triggers drop the blob references.
  auto done = stmt->bind(1, account_id).bind(2, *normalized).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found, "The mailbox " + *normalized + " does not exist.");
  return {};
}

// --- messages

StoreResult<std::uint64_t> SqliteMailStore::next_modseq_locked(Id mailbox_id) {
  auto stmt = db_->prepare(
      "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 "
      "RETURNING highestmodseq");
  if (!stmt) return fail(stmt);
  return single(
      stmt->bind(1, mailbox_id),
      [](const Statement& s) { return static_cast<std::uint64_t>(s.column_int64(0)); },
      "The mailbox with id " + std::to_string(mailbox_id) + " does not exist.");
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::message_records(
    std::span<const NewMessage> messages) {
  std::vector<MessageRecord> records;
  records.reserve(messages.size());
  const UnixTime now = now_seconds();
  for (const NewMessage& message : messages) {
    if (!is_valid_blob_id(message.blob_id))
      return invalid("The blob id '" + message.blob_id + "' is not a lower-case hex SHA-256.");
    if (message.size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return invalid("The message size is too large.");
    auto flags = normalize_flags(message.flags);
    if (!flags) return invalid(flags.error());
    MessageRecord record;
    record.mailbox_id = message.mailbox_id;
    record.flags = std::move(*flags);
    record.internal_date = message.internal_date != 0 ? message.internal_date : now;
    record.size = message.size;
    record.blob_id = message.blob_id;
    record.mime_metadata = message.mime_metadata;
    records.push_back(std::move(record));
  }

  return records;
}

// Inside an open write transaction: assigns UIDs and MODSEQs and inserts the rows.
StoreResult<void> SqliteMailStore::insert_messages_locked(std::vector<MessageRecord>& records) {
  for (MessageRecord& record : records) {
    {
      // UIDs are strictly ascending (RFC 9051 §2.3.1.1) and MODSEQs too (RFC 7162 §3.1):
      // take both from the mailbox row, which the write transaction has locked.
      auto stmt = db_->prepare(
          "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 "
          "WHERE id = ?1 AND uidnext < ?2 RETURNING uidnext - 1, highestmodseq");
      if (!stmt) return fail(stmt);
      auto row = stmt->bind(1, record.mailbox_id).bind(2, kMaxUid).step();
      if (!row) return fail(row);
      if (!*row) {
        auto found = require_mailbox_locked(record.mailbox_id);
        if (!found) return fail(found);
        return storage_error(
            Code::conflict,
            "The mailbox with id " + std::to_string(record.mailbox_id) + " has used up its UIDs.");
      }
      record.uid = static_cast<std::uint32_t>(stmt->column_int64(0));
      record.modseq = static_cast<std::uint64_t>(stmt->column_int64(1));
    }
    auto stmt = db_->prepare(
        "INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id, "
        "mime_metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, record.mailbox_id)
                    .bind(2, static_cast<std::int64_t>(record.uid))
                    .bind(3, static_cast<std::int64_t>(record.modseq))
                    .bind(4, join_flags(record.flags))
                    .bind(5, record.internal_date)
                    .bind(6, static_cast<std::int64_t>(record.size))
                    .bind(7, record.blob_id)
                    .bind_blob(8, record.mime_metadata)
                    .run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  return {};
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::append_messages(
    std::span<const NewMessage> messages) {
  if (messages.empty()) return std::vector<MessageRecord>{};
  auto records = message_records(messages);
  if (!records) return fail(records);
  std::lock_guard lock(mutex_);
  // One transaction, one WAL sync for the whole batch: either every message is stored or
  // none is.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  if (auto inserted = insert_messages_locked(*records); !inserted) return fail(inserted);
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return records;
}

StoreResult<std::vector<MessageRecord>> SqliteMailStore::list_messages(Id mailbox_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  auto stmt = db_->prepare(
      "SELECT id, mailbox_id, uid, modseq, flags, internal_date, size, blob_id, mime_metadata "
      "FROM messages WHERE mailbox_id = ?1 ORDER BY uid");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, mailbox_id), read_message);
}

StoreResult<void> SqliteMailStore::set_flags(Id mailbox_id, std::span<const std::uint32_t> uids,
                                             std::span<const std::string> flags) {
  auto normalized = normalize_flags(flags);
  if (!normalized) return invalid(normalized.error());
  const std::string text = join_flags(*normalized);
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  for (const std::uint32_t uid : uids) {
    {
      // UIDs that are gone (expunged meanwhile) are skipped, as STORE does (RFC 9051 §6.4.6).
      auto stmt = db_->prepare("SELECT flags FROM messages WHERE mailbox_id = ?1 AND uid = ?2");
      if (!stmt) return fail(stmt);
      auto row = stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(uid)).step();
      if (!row) return fail(row);
      if (!*row || stmt->column_text(0) == text) continue;
    }
    // Only a real change takes a new MODSEQ (RFC 7162 §3.1.1).
    auto modseq = next_modseq_locked(mailbox_id);
    if (!modseq) return fail(modseq);
    auto stmt = db_->prepare(
        "UPDATE messages SET flags = ?3, modseq = ?4 WHERE mailbox_id = ?1 AND uid = ?2");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, mailbox_id)
                    .bind(2, static_cast<std::int64_t>(uid))
                    .bind(3, text)
                    .bind(4, static_cast<std::int64_t>(*modseq))
                    .run();
    if (!done) return done;
  }
  return txn->commit();
}

StoreResult<void> SqliteMailStore::expunge(Id mailbox_id, std::span<const std::uint32_t> uids) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  std::int64_t removed = 0;
  for (const std::uint32_t uid : uids) {
    auto stmt = db_->prepare("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(uid)).run();
    if (!done) return done;
    removed += db_->changes();
  }
  // An expunge is a change of the mailbox that QRESYNC clients must see (RFC 7162 §3.2):
  // HIGHESTMODSEQ moves on.
  if (removed > 0) {
    auto modseq = next_modseq_locked(mailbox_id);
    if (!modseq) return fail(modseq);
  }
  return txn->commit();
}

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

// --- blobs

StoreResult<std::vector<std::string>> SqliteMailStore::unreferenced_blobs() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT id FROM blobs WHERE refcount = 0 ORDER BY id");
  if (!stmt) return fail(stmt);
  return collect(*stmt, [](const Statement& s) { return s.column_text(0); });
}

StoreResult<void> SqliteMailStore::forget_blobs(std::span<const std::string> blob_ids) {
  for (const std::string& id : blob_ids)
    if (!is_valid_blob_id(id))
      return invalid("The blob id '" + id + "' is not a lower-case hex SHA-256.");
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  std::vector<std::string> referenced;
  for (const std::string& id : blob_ids) {
    {
      auto stmt = db_->prepare("DELETE FROM blobs WHERE id = ?1 AND refcount = 0");
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, id).run();
      if (!done) return done;
      if (db_->changes() > 0) continue;
    }
    auto stmt = db_->prepare("SELECT 1 FROM blobs WHERE id = ?1");
    if (!stmt) return fail(stmt);
    auto known = exists(stmt->bind(1, id));
    if (!known) return fail(known);
    if (*known) referenced.push_back(id);  // unknown ids: already forgotten, nothing to do
  }
  if (!referenced.empty()) {
    // A blob gained a reference after the caller listed it: the caller must not have
    // deleted its file, so say so loudly and forget nothing.
    std::string message = "Blobs are referenced again and were not forgotten:";
    for (const std::string& id : referenced) message.append(" ").append(id);
    return storage_error(Code::conflict, std::move(message));
  }
  return txn->commit();
}

StoreResult<bool> SqliteMailStore::blob_known(std::string_view blob_id) {
  if (!is_valid_blob_id(blob_id))
    return invalid("The blob id '" + std::string(blob_id) + "' is not a lower-case hex SHA-256.");
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT 1 FROM blobs WHERE id = ?1");
  if (!stmt) return fail(stmt);
  return exists(stmt->bind(1, blob_id));
}

// --- outbound queue

StoreResult<std::vector<QueueRecipient>> SqliteMailStore::queue_recipients_locked(Id message_id) {
  auto stmt = db_->prepare(
      "SELECT id, message_id, address, orcpt, notify, state, attempts, next_attempt_at, "
      "last_reply FROM queue_recipients WHERE message_id = ?1 ORDER BY id");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, message_id), read_queue_recipient);
}

StoreResult<void> SqliteMailStore::validate_queue_message(const QueueMessage& message) {
  if (!is_valid_blob_id(message.blob_id))
    return invalid("The blob id '" + message.blob_id + "' is not a lower-case hex SHA-256.");
  if (message.size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return invalid("The message size is too large.");
  if (auto ok = validate_envelope_field(message.sender, "sender"); !ok) return fail(ok);
  if (auto ok = validate_envelope_field(message.envid, "ENVID"); !ok) return fail(ok);
  if (message.ret != "" && message.ret != "FULL" && message.ret != "HDRS")
    return invalid("RET must be FULL or HDRS (RFC 3461 §4.3).");
  if (message.recipients.empty()) return invalid("A queued message needs at least one recipient.");
  for (const QueueRecipient& recipient : message.recipients) {
    if (recipient.address.empty()) return invalid("A recipient address is empty.");
    if (auto ok = validate_envelope_field(recipient.address, "recipient address"); !ok)
      return fail(ok);
    if (auto ok = validate_envelope_field(recipient.orcpt, "ORCPT"); !ok) return fail(ok);
    if (auto ok = validate_envelope_field(recipient.notify, "NOTIFY"); !ok) return fail(ok);
  }

  return {};
}

// Inside an open write transaction: inserts the message and its recipients, filling ids.
StoreResult<void> SqliteMailStore::insert_queue_locked(QueueMessage& record) {
  if (record.created_at == 0) record.created_at = now_seconds();
  {
    auto stmt = db_->prepare(
        "INSERT INTO queue_messages(sender, blob_id, size, envid, ret, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, record.sender)
                    .bind(2, record.blob_id)
                    .bind(3, static_cast<std::int64_t>(record.size))
                    .bind(4, record.envid)
                    .bind(5, record.ret)
                    .bind(6, record.created_at)
                    .run();
    if (!done) return fail(done);
    record.id = db_->last_insert_rowid();
  }
  for (QueueRecipient& recipient : record.recipients) {
    recipient.message_id = record.id;
    auto stmt = db_->prepare(
        "INSERT INTO queue_recipients(message_id, address, orcpt, notify, state, attempts, "
        "next_attempt_at, last_reply) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, recipient.message_id)
                    .bind(2, recipient.address)
                    .bind(3, recipient.orcpt)
                    .bind(4, recipient.notify)
                    .bind(5, queue_state_name(recipient.state))
                    .bind(6, static_cast<std::int64_t>(recipient.attempts))
                    .bind(7, recipient.next_attempt_at)
                    .bind(8, recipient.last_reply)
                    .run();
    if (!done) return fail(done);
    recipient.id = db_->last_insert_rowid();
  }
  return {};
}

StoreResult<QueueMessage> SqliteMailStore::enqueue(const QueueMessage& message) {
  if (auto ok = validate_queue_message(message); !ok) return fail(ok);
  QueueMessage record = message;
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  if (auto inserted = insert_queue_locked(record); !inserted) return fail(inserted);
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return record;
}

std::vector<StoreResult<DeliveryOutcome>> SqliteMailStore::commit_deliveries(
    std::span<const DeliveryItem> items) {
  std::vector<StoreResult<DeliveryOutcome>> outcomes;
  outcomes.reserve(items.size());
  // Validation first, outside the lock: a bad item fails alone.
  std::vector<std::optional<DeliveryOutcome>> prepared;
  for (const DeliveryItem& item : items) {
    DeliveryOutcome outcome;
    auto records = message_records(item.messages);
    if (!records) {
      outcomes.push_back(std::unexpected(records.error()));
      prepared.emplace_back();
      continue;
    }
    outcome.stored = std::move(*records);
    if (item.outbound) {
      if (auto ok = validate_queue_message(*item.outbound); !ok) {
        outcomes.push_back(std::unexpected(ok.error()));
        prepared.emplace_back();
        continue;
      }
      outcome.queued = *item.outbound;
    }
    outcomes.push_back(DeliveryOutcome{});
    prepared.push_back(std::move(outcome));
  }

  std::lock_guard lock(mutex_);
  auto fail_all = [&](const StorageError& error) {
    for (auto& outcome : outcomes) {
      if (outcome) outcome = std::unexpected(error);
    }
    return outcomes;
  };
  // One transaction and one WAL sync for every delivery in the batch (DESIGN.md "Group
  // commit"); a savepoint per item keeps one failing delivery from undoing the others.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail_all(txn.error());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!prepared[i]) continue;
    if (auto ok = db_->exec("SAVEPOINT delivery"); !ok) return fail_all(ok.error());
    auto inserted = insert_messages_locked(prepared[i]->stored);
    if (inserted && prepared[i]->queued) inserted = insert_queue_locked(*prepared[i]->queued);
    if (!inserted) {
      outcomes[i] = std::unexpected(inserted.error());
      if (auto ok = db_->exec("ROLLBACK TO delivery"); !ok) return fail_all(ok.error());
    }
    if (auto ok = db_->exec("RELEASE delivery"); !ok) return fail_all(ok.error());
    if (inserted) outcomes[i] = std::move(*prepared[i]);
  }
  if (auto committed = txn->commit(); !committed) return fail_all(committed.error());
  return outcomes;
}

StoreResult<std::vector<QueueMessage>> SqliteMailStore::list_queue() {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  std::vector<QueueMessage> messages;
  {
    auto stmt = db_->prepare(
        "SELECT id, sender, blob_id, size, envid, ret, created_at FROM queue_messages "
        "ORDER BY id");
    if (!stmt) return fail(stmt);
    auto rows = collect(*stmt, read_queue_message);
    if (!rows) return fail(rows);
    messages = std::move(*rows);
  }
  std::unordered_map<Id, std::size_t> index;
  for (std::size_t i = 0; i < messages.size(); ++i) index.emplace(messages[i].id, i);
  auto stmt = db_->prepare(
      "SELECT id, message_id, address, orcpt, notify, state, attempts, next_attempt_at, "
      "last_reply FROM queue_recipients ORDER BY message_id, id");
  if (!stmt) return fail(stmt);
  auto recipients = collect(*stmt, read_queue_recipient);
  if (!recipients) return fail(recipients);
  for (QueueRecipient& recipient : *recipients) {
    const auto it = index.find(recipient.message_id);
    if (it != index.end()) messages[it->second].recipients.push_back(std::move(recipient));
  }
  return messages;
}

StoreResult<QueueMessage> SqliteMailStore::find_queued(Id message_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  StoreResult<QueueMessage> message = std::unexpected(StorageError{});
  {
    auto stmt = db_->prepare(
        "SELECT id, sender, blob_id, size, envid, ret, created_at FROM queue_messages "
        "WHERE id = ?1");
    if (!stmt) return fail(stmt);
    message = single(stmt->bind(1, message_id), read_queue_message,
                     "The queued message " + std::to_string(message_id) + " does not exist.");
    if (!message) return message;
  }
  auto recipients = queue_recipients_locked(message_id);
  if (!recipients) return fail(recipients);
  message->recipients = std::move(*recipients);
  return message;
}

StoreResult<void> SqliteMailStore::update_recipient(const QueueRecipient& recipient) {
  if (recipient.last_reply.find('\0') != std::string::npos)
    return invalid("The last reply holds a NUL octet.");
  std::lock_guard lock(mutex_);
  // A non-zero message_id must match too, so a stale id cannot touch another message.
  auto stmt = db_->prepare(
      "UPDATE queue_recipients SET state = ?3, attempts = ?4, next_attempt_at = ?5, "
      "last_reply = ?6 WHERE id = ?1 AND (?2 = 0 OR message_id = ?2)");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, recipient.id)
                  .bind(2, recipient.message_id)
                  .bind(3, queue_state_name(recipient.state))
                  .bind(4, static_cast<std::int64_t>(recipient.attempts))
                  .bind(5, recipient.next_attempt_at)
                  .bind(6, recipient.last_reply)
                  .run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found, "The queue recipient " + std::to_string(recipient.id) +
                                              " does not exist.");
  return {};
}

StoreResult<void> SqliteMailStore::delete_queued(Id message_id) {
  std::lock_guard lock(mutex_);
  // Recipients go by ON DELETE CASCADE; the trigger drops the blob reference.
  auto stmt = db_->prepare("DELETE FROM queue_messages WHERE id = ?1");
  if (!stmt) return fail(stmt);
  auto done = stmt->bind(1, message_id).run();
  if (!done) return done;
  if (db_->changes() == 0)
    return storage_error(Code::not_found,
                         "The queued message " + std::to_string(message_id) + " does not exist.");
  return {};
}

}  // namespace postamt::storage
