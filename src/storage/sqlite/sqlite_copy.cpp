// COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851), with the UIDs UIDPLUS reports (RFC 4315 §3).
#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

StoreResult<CopyResult> SqliteMailStore::copy_messages(Id source_mailbox_id,
                                                       std::span<const std::uint32_t> uids,
                                                       Id destination_mailbox_id, bool move) {
  static const std::string select_sql = "SELECT " + std::string(kMessageColumns) +
                                        " FROM messages WHERE mailbox_id = ?1 AND uid IN (" +
                                        uid_chunk_placeholders() + ") ORDER BY uid";
  const std::vector<std::uint32_t> wanted = sorted_unique(uids);

  return locked_with_changes([&](std::vector<Id>& changed) -> StoreResult<CopyResult> {
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail(txn);
    auto source = find_mailbox_by_id_locked(source_mailbox_id);
    if (!source) return fail(source);
    auto destination = find_mailbox_by_id_locked(destination_mailbox_id);
    if (!destination) return fail(destination);
    CopyResult result;
    result.destination_uidvalidity = destination->uidvalidity;

    // Missing source UIDs are skipped; the rest are copied in ascending UID order, so the
    // new UIDs ascend with them (COPYUID pairs them up in that order).
    auto rows = collect_by_uids(*db_, select_sql, source->id, wanted, read_message);
    if (!rows) return fail(rows);
    if (rows->empty()) return result;  // nothing to do; the transaction ends unused

    std::int64_t bytes = 0;
    for (MessageRecord& row : *rows) {
      result.source_uids.push_back(row.uid);
      bytes += static_cast<std::int64_t>(row.size);
      // Flags, internal date, size, blob and MIME metadata go along (RFC 9051 §6.4.7);
      // the blob's reference count rises by the insert trigger.
      row.id = 0;
      row.mailbox_id = destination->id;
    }
    auto growth = insert_messages_locked(*rows);
    if (!growth) return fail(growth);
    for (const MessageRecord& row : *rows) result.destination_uids.push_back(row.uid);

    if (move) {
      // RFC 6851 §3.3: the source messages are expunged in the same transaction, exactly
      // as EXPUNGE would (and recorded for VANISHED).
      auto removed = expunge_locked(source->id, result.source_uids);
      if (!removed) return fail(removed);
      add_growth(*growth, source->account_id, -bytes);
    }
    // Quota counts against the destination account; a MOVE within one
    // account does not grow it.
    if (auto fits = enforce_quota_locked(*growth); !fits) return fail(fits);

    auto committed = txn->commit();
    if (!committed) return fail(committed);
    changed.push_back(destination->id);
    if (move) changed.push_back(source->id);
    return result;
  });
}

}  // namespace postamt::storage
