// SqliteMailStore: the group commit of deliveries (DESIGN.md "Group commit").
#include <optional>

#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

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

  return locked_with_changes([&](std::vector<Id>& changed) {
    auto fail_all = [&](const StorageError& error) {
      for (auto& outcome : outcomes) {
        if (outcome) outcome = std::unexpected(error);
      }
      return std::move(outcomes);
    };
    // One transaction and one WAL sync for every delivery in the batch (DESIGN.md "Group
    // commit"); a savepoint per item keeps one failing delivery (a missing mailbox, a full
    // quota) from undoing the others.
    auto txn = Transaction::begin(*db_, Transaction::Mode::write);
    if (!txn) return fail_all(txn.error());
    std::vector<Id> stored_into;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!prepared[i]) continue;
      if (auto ok = db_->run("SAVEPOINT delivery"); !ok) return fail_all(ok.error());
      StoreResult<void> inserted;
      auto growth = insert_messages_locked(prepared[i]->stored);
      if (!growth)
        inserted = fail(growth);
      else
        inserted = enforce_quota_locked(*growth);
      if (inserted && prepared[i]->queued) inserted = insert_queue_locked(*prepared[i]->queued);
      if (!inserted) {
        outcomes[i] = std::unexpected(inserted.error());
        if (auto ok = db_->run("ROLLBACK TO delivery"); !ok) return fail_all(ok.error());
      }
      if (auto ok = db_->run("RELEASE delivery"); !ok) return fail_all(ok.error());
      if (inserted) {
        for (const MessageRecord& record : prepared[i]->stored)
          stored_into.push_back(record.mailbox_id);
        outcomes[i] = std::move(*prepared[i]);
      }
    }
    if (auto committed = txn->commit(); !committed) return fail_all(committed.error());
    changed = std::move(stored_into);
    return std::move(outcomes);
  });
}

}  // namespace postamt::storage
