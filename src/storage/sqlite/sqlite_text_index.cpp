// SqliteMailStore: the full-text index behind SEARCH BODY / TEXT (schema versions 3 and 4,
// see sqlite_schema.cpp). An FTS5 table with the trigram tokenizer holds one row per blob; the
// triggers on messages keep "indexed" and "pending" exact as messages come and go, and
// purge_text_index() removes the texts they let go of.
#include <algorithm>
#include <string>
#include <vector>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

// The trigram tokenizer indexes every run of three characters; a query for fewer finds
// nothing at all, which would read as "no candidates" and lose messages.
constexpr std::size_t kMinNeedleCharacters = 3;

// UTF-8: every byte that does not continue a sequence starts a code point.
bool starts_code_point(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_code_point));
}

// The FTS5 query for a needle: every distinct trigram (three code points) of it, each an
// FTS5 string, all required. Inside double quotes nothing is syntax, not `*`, `-`, `NEAR`,
// `AND` or parentheses, only the quote itself, which is doubled; the trigram tokenizer
// makes a three-character string one token. The index keeps no positions (schema version
// 4), so this names every text holding all the trigrams, a superset of those holding the
// needle; the matcher decides. Long needles use at most kMaxTrigrams of their trigrams,
// spread over the needle: still a superset.
constexpr std::size_t kMaxTrigrams = 24;

std::string fts_all_trigrams(std::string_view needle) {
  std::vector<std::size_t> starts;  // byte offset of each code point
  for (std::size_t i = 0; i < needle.size(); ++i)
    if (starts_code_point(needle[i])) starts.push_back(i);
  starts.push_back(needle.size());
  const std::size_t trigrams = starts.size() >= 4 ? starts.size() - 3 : 0;
  std::vector<std::string_view> chosen;
  const std::size_t step = trigrams > kMaxTrigrams ? (trigrams + kMaxTrigrams - 1) / kMaxTrigrams : 1;
  for (std::size_t t = 0; t < trigrams; t += step)
    chosen.push_back(needle.substr(starts[t], starts[t + 3] - starts[t]));
  if (trigrams > 0 && (trigrams - 1) % step != 0)  // the needle's end too
    chosen.push_back(needle.substr(starts[trigrams - 1], starts[trigrams + 2] - starts[trigrams - 1]));
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  std::string query;
  for (const std::string_view trigram : chosen) {
    if (!query.empty()) query += " AND ";
    query += '"';
    for (const char c : trigram) {
      if (c == '"') query += '"';
      query += c;
    }
    query += '"';
  }
  return query;
}

}  // namespace

StoreResult<std::vector<UnindexedBlob>> SqliteMailStore::unindexed_blobs(std::size_t limit,
                                                                        std::int64_t after_seq) {
  if (limit == 0) return std::vector<UnindexedBlob>{};
  std::lock_guard lock(mutex_);
  // Every pending blob has a message (the invariant in sqlite_schema.cpp); messages_blob
  // finds one.
  auto stmt = db_->prepare(
      "SELECT p.seq, p.blob_id, "
      "(SELECT m.mime_metadata FROM messages AS m WHERE m.blob_id = p.blob_id LIMIT 1) "
      "FROM blob_text_pending AS p WHERE p.seq > ?1 ORDER BY p.seq LIMIT ?2");
  if (!stmt) return fail(stmt);
  stmt->bind(1, after_seq)
      .bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000)));
  return collect(*stmt, [](const Statement& s) {
    return UnindexedBlob{s.column_int64(0), s.column_text(1), s.column_blob(2)};
  });
}

StoreResult<void> SqliteMailStore::index_blob_texts(std::span<const BlobText> texts) {
  for (const BlobText& entry : texts)
    if (!is_valid_blob_id(entry.blob_id))
      return invalid("The blob id '" + entry.blob_id + "' is not a lower-case hex SHA-256.");
  if (texts.empty()) return {};
  std::lock_guard lock(mutex_);
  // The index is derived data: a power cut that undoes this transaction also leaves its
  // blobs pending (the same transaction), and they are indexed again. No WAL sync for it.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  for (const BlobText& entry : texts) {
    {
      // Only a blob still waiting is indexed: one whose last message went meanwhile is not
      // (its entry would never be removed), nor one indexed already.
      auto stmt = db_->prepare("DELETE FROM blob_text_pending WHERE blob_id = ?1");
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, entry.blob_id).run();
      if (!done) return done;
      if (db_->changes() == 0) continue;
    }
    {
      auto stmt = db_->prepare("INSERT INTO blob_texts(blob_id) VALUES (?1)");
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, entry.blob_id).run();
      if (!done) return done;
    }
    auto stmt = db_->prepare("INSERT INTO blob_text_fts(rowid, text) VALUES (?1, ?2)");
    if (!stmt) return fail(stmt);
    auto done = stmt->bind(1, db_->last_insert_rowid()).bind(2, entry.text).run();
    if (!done) return done;
  }
  return txn->commit();
}

StoreResult<std::size_t> SqliteMailStore::purge_text_index(std::size_t limit) {
  if (limit == 0) return std::size_t{0};
  std::lock_guard lock(mutex_);
  {
    // The usual answer, without taking the write lock.
    auto stmt = db_->prepare("SELECT 1 FROM blob_text_garbage LIMIT 1");
    if (!stmt) return fail(stmt);
    auto any = exists(*stmt);
    if (!any) return fail(any);
    if (!*any) return std::size_t{0};
  }
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);  // derived data too
  if (!txn) return fail(txn);
  std::vector<std::int64_t> ids;
  {
    auto stmt = db_->prepare("SELECT id FROM blob_text_garbage ORDER BY id LIMIT ?1");
    if (!stmt) return fail(stmt);
    auto rows = collect(stmt->bind(1, static_cast<std::int64_t>(
                                          std::min<std::size_t>(limit, 1'000'000))),
                        [](const Statement& s) { return s.column_int64(0); });
    if (!rows) return fail(rows);
    ids = std::move(*rows);
  }
  for (const std::int64_t id : ids) {
    // One row at a time: a rowid equality is what FTS5 looks up directly.
    for (const std::string_view sql : {"DELETE FROM blob_text_fts WHERE rowid = ?1",
                                       "DELETE FROM blob_text_garbage WHERE id = ?1"}) {
      auto stmt = db_->prepare(sql);
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, id).run();
      if (!done) return fail(done);
    }
  }
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return ids.size();
}

StoreResult<std::vector<std::uint32_t>> SqliteMailStore::text_candidates(
    Id mailbox_id, std::string_view folded_needle) {
  if (folded_needle.find('\0') != std::string_view::npos)
    return invalid("A text search needle cannot hold NUL.");
  if (code_points(folded_needle) < kMinNeedleCharacters)
    return invalid("A text search needle needs at least 3 characters for the index.");
  const std::string query = fts_all_trigrams(folded_needle);
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto found = require_mailbox_locked(mailbox_id);
  if (!found) return fail(found);
  // The matching rows first (CROSS JOIN fixes that order), then their blobs' messages
  // found by blob (INDEXED BY: the planner would rather walk the whole mailbox for each
  // match), kept when in this mailbox: the work follows the matches, not the mailbox.
  auto stmt = db_->prepare(
      "SELECT m.uid FROM blob_text_fts "
      "CROSS JOIN blob_texts AS b ON b.id = blob_text_fts.rowid "
      "CROSS JOIN messages AS m INDEXED BY messages_blob ON m.blob_id = b.blob_id "
      "WHERE blob_text_fts MATCH ?2 AND m.mailbox_id = ?1 ORDER BY m.uid");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, mailbox_id).bind(2, query), read_uid);
}

StoreResult<std::vector<std::uint32_t>> SqliteMailStore::unindexed_uids(Id mailbox_id) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto mailbox = find_mailbox_by_id_locked(mailbox_id);
  if (!mailbox) return fail(mailbox);
  // Walk whichever is shorter: the pending blobs (usually a handful) or the mailbox (while
  // a large backlog is being indexed). Counting stops one past the mailbox's size.
  bool walk_pending = true;
  {
    auto stmt = db_->prepare(
        "SELECT count(*) FROM (SELECT 1 FROM blob_text_pending LIMIT ?1)");
    if (!stmt) return fail(stmt);
    auto pending = single(
        stmt->bind(1, static_cast<std::int64_t>(mailbox->message_count) + 1),
        [](const Statement& s) { return s.column_int64(0); }, "count returned no row");
    if (!pending) return fail(pending);
    walk_pending = *pending <= static_cast<std::int64_t>(mailbox->message_count);
  }
  auto stmt = db_->prepare(
      walk_pending
          ? "SELECT m.uid FROM blob_text_pending AS p "
            "CROSS JOIN messages AS m INDEXED BY messages_blob ON m.blob_id = p.blob_id "
            "WHERE m.mailbox_id = ?1 ORDER BY m.uid"
          : "SELECT m.uid FROM messages AS m WHERE m.mailbox_id = ?1 AND EXISTS "
            "(SELECT 1 FROM blob_text_pending AS p WHERE p.blob_id = m.blob_id) ORDER BY m.uid");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, mailbox_id), read_uid);
}

}  // namespace postamt::storage
