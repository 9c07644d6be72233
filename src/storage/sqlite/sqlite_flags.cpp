// STORE (RFC 9051 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).
#include <algorithm>
#include <limits>

#include "storage/api/name_rules.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

struct CurrentFlags {
  MessageSummary summary;
  std::string stored;  // the flags column as stored
};

CurrentFlags read_current(const Statement& stmt) {
  return CurrentFlags{read_summary(stmt), stmt.column_text(2)};
}

// The flags a message ends up with. `requested` and `current` are normalised (canonical
// system flags, sorted, unique), so the result is too; keywords compare case-insensitively
// and the spelling already stored wins.
StoreResult<std::vector<std::string>> apply_change(FlagChange change,
                                                   const std::vector<std::string>& current,
                                                   const std::vector<std::string>& requested) {
  switch (change) {
    case FlagChange::replace:
      return requested;
    case FlagChange::add: {
      std::vector<std::string> both = current;
      both.insert(both.end(), requested.begin(), requested.end());
      auto merged = normalize_flags(both);
      if (!merged) return invalid(merged.error());
      return std::move(*merged);
    }
    case FlagChange::remove: {
      std::vector<std::string> kept;
      for (const std::string& flag : current)
        if (std::ranges::none_of(requested,
                                 [&](const std::string& r) { return iequals_ascii(r, flag); }))
          kept.push_back(flag);
      return kept;
    }
  }
  return requested;
}

}  // namespace

StoreResult<FlagUpdateResult> SqliteMailStore::update_flags(
    Id mailbox_id, std::span<const std::uint32_t> uids, FlagChange change,
    std::span<const std::string> flags, std::optional<std::uint64_t> unchanged_since) {
  static const std::string select_sql = "SELECT " + std::string(kSummaryColumns) +
                                        " FROM messages WHERE mailbox_id = ?1 AND uid IN (" +
                                        uid_chunk_placeholders() + ") ORDER BY uid";
  auto requested = normalize_flags(flags);
  if (!requested) return invalid(requested.error());
  // \Recent belongs to the server (RFC 3501 §2.3.2); a client cannot set or clear it.
  for (const std::string& flag : *requested)
    if (iequals_ascii(flag, "\\Recent")) return invalid("The \\Recent flag cannot be stored.");
  const std::vector<std::uint32_t> wanted = sorted_unique(uids);

  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<FlagUpdateResult> {
    // Flags are committed without a WAL sync, as other IMAP servers keep them: a power cut
    // may undo the last changes, never a message (Transaction::Mode::write_unsynced).
    auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
    if (!txn) return fail(txn);
    auto found = require_mailbox_locked(mailbox_id);
    if (!found) return fail(found);
    // Missing UIDs are skipped (RFC 9051 §6.4.6): only rows that exist come back.
    auto current = collect_by_uids(*db_, select_sql, mailbox_id, wanted, read_current);
    if (!current) return fail(current);

    FlagUpdateResult result;
    std::vector<std::string> new_texts;
    for (CurrentFlags& row : *current) {
      // RFC 7162 §3.1.3: a message whose mod-sequence is above UNCHANGEDSINCE is not
      // touched and is reported in the MODIFIED response code.
      if (unchanged_since && row.summary.modseq > *unchanged_since) {
        result.modified.push_back(row.summary.uid);
        continue;
      }
      auto updated = apply_change(change, row.summary.flags, *requested);
      if (!updated) return fail(updated);
      std::string text = join_flags(*updated);
      if (text == row.stored) continue;  // no real change: no new MODSEQ (RFC 7162 §3.1.1)
      row.summary.flags = std::move(*updated);
      result.changed.push_back(std::move(row.summary));
      new_texts.push_back(std::move(text));
    }
    if (result.changed.empty()) return result;  // nothing to commit

    // One new MODSEQ per changed message, ascending in UID order (RFC 7162 §3.1.1).
    auto first = take_modseqs_locked(mailbox_id, result.changed.size());
    if (!first) return fail(first);
    for (std::size_t i = 0; i < result.changed.size(); ++i) {
      MessageSummary& summary = result.changed[i];
      summary.modseq = *first + i;
      auto stmt = db_->prepare(
          "UPDATE messages SET flags = ?3, modseq = ?4 WHERE mailbox_id = ?1 AND uid = ?2");
      if (!stmt) return fail(stmt);
      auto done = stmt->bind(1, mailbox_id)
                      .bind(2, static_cast<std::int64_t>(summary.uid))
                      .bind(3, new_texts[i])
                      .bind(4, static_cast<std::int64_t>(summary.modseq))
                      .run();
      if (!done) return fail(done);
    }
    auto committed = txn->commit();
    if (!committed) return fail(committed);
    changed.push_back(mailbox_id);
    return result;
  });
}

}  // namespace postamt::storage
