#pragma once
// Helpers the SQLite store's topic files share: result plumbing, the text forms of enums
// and flags in the schema, and row readers. Internal to the SQLite backend.
#include <algorithm>
#include <cstdint>
#include <expected>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/api/storage_error.hpp"
#include "storage/api/types.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/sqlite/sqlite_statement.hpp"

namespace postamt::storage::sqlite {

using Code = StorageError::Code;

constexpr std::int64_t kMaxUid = std::numeric_limits<std::uint32_t>::max();
constexpr std::string_view kInbox = "INBOX";

// Turns a failed result into the unexpected value of any other StoreResult.
template <class T>
std::unexpected<StorageError> fail(StoreResult<T>& result) {
  return std::unexpected(std::move(result.error()));
}

inline std::unexpected<StorageError> invalid(std::string message) {
  return storage_error(Code::invalid, std::move(message));
}

UnixTime now_seconds();
bool has_control(std::string_view text);
bool iequals_ascii(std::string_view a, std::string_view b);

std::string_view special_use_name(SpecialUse use);
SpecialUse special_use_from_name(std::string_view name);
QueueState queue_state_from_name(std::string_view name);

// Flags are stored sorted and unique, separated by one space ("" for none).
std::string join_flags(const std::vector<std::string>& flags);
std::vector<std::string> split_flags(std::string_view text);

// Column lists the readers below expect, in this order.
inline constexpr std::string_view kMailboxColumns =
    "id, account_id, name, uidvalidity, uidnext, highestmodseq, special_use, message_count, "
    "total_size";
inline constexpr std::string_view kMessageColumns =
    "id, mailbox_id, uid, modseq, flags, internal_date, size, blob_id, mime_metadata";
// The same for read_message without reading the metadata (an empty blob in its place).
inline constexpr std::string_view kMessageColumnsWithoutMetadata =
    "id, mailbox_id, uid, modseq, flags, internal_date, size, blob_id, x''";
inline constexpr std::string_view kSummaryColumns = "uid, modseq, flags, internal_date, size";

DomainRecord read_domain(const Statement& stmt);
AccountRecord read_account(const Statement& stmt);
AliasRecord read_alias(const Statement& stmt);
MailboxRecord read_mailbox(const Statement& stmt);
MessageRecord read_message(const Statement& stmt);
MessageSummary read_summary(const Statement& stmt);
QueueMessage read_queue_message(const Statement& stmt);
QueueRecipient read_queue_recipient(const Statement& stmt);
std::uint32_t read_uid(const Statement& stmt);

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

StoreResult<bool> exists(Statement& stmt);

// --- UID lists from clients (any order, duplicates) turned into bounded IN lists

// The UIDs ascending, without duplicates.
std::vector<std::uint32_t> sorted_unique(std::span<const std::uint32_t> uids);

// How many UIDs one "uid IN (...)" query binds; a fixed count keeps one cached statement.
inline constexpr std::size_t kUidChunk = 200;

// "?2, ?3, ..., ?201": the IN list of a query whose ?1 is the mailbox id.
const std::string& uid_chunk_placeholders();

// Runs `sql` (?1 = mailbox id, ?2.. = the UIDs of one chunk, rows ordered by UID) for each
// chunk of the ascending `uids` and collects the rows through `read`, so the result is in
// UID order too. A short last chunk repeats its last UID (IN ignores duplicates).
template <class Read>
auto collect_by_uids(Database& db, const std::string& sql, Id mailbox_id,
                     std::span<const std::uint32_t> uids, Read read)
    -> StoreResult<std::vector<decltype(read(std::declval<const Statement&>()))>> {
  std::vector<decltype(read(std::declval<const Statement&>()))> rows;
  for (std::size_t start = 0; start < uids.size(); start += kUidChunk) {
    const auto chunk = uids.subspan(start, std::min(kUidChunk, uids.size() - start));
    auto stmt = db.prepare(sql);
    if (!stmt) return fail(stmt);
    stmt->bind(1, mailbox_id);
    for (std::size_t i = 0; i < kUidChunk; ++i)
      stmt->bind(static_cast<int>(i) + 2,
                 static_cast<std::int64_t>(chunk[std::min(i, chunk.size() - 1)]));
    auto part = collect(*stmt, read);
    if (!part) return fail(part);
    for (auto& row : *part) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace postamt::storage::sqlite
