#pragma once
// The operator's commands on the outbound queue (`postamt queue ...`). Like the other admin
// commands they open the store named by the config directly (SQLite in WAL mode lets them
// run beside a live server); the running server's scheduler sees a change when it next
// reads the queue table. They return the process exit status; errors are one line on
// stderr (an unknown message id is one, exit status 1).
#include <optional>

#include "base/config.hpp"
#include "storage/api/types.hpp"

namespace postamt::server {

// Every queued message: one block per message (id, sender, size, creation time and age)
// with one line per recipient (address, state, attempts, next attempt, last reply); with
// `json` a JSON array of the same fields.
int queue_list(const Config& config, bool json);
// One message as queue_list shows it, followed by its header section from the blob store.
int queue_show(const Config& config, storage::Id message_id, bool json);
// Makes the queued and deferred recipients of one message (none given: of every message)
// due now.
int queue_flush(const Config& config, std::optional<storage::Id> message_id);
// Removes a message and all its recipients from the queue without a bounce.
int queue_delete(const Config& config, storage::Id message_id);
// hold: queued and deferred recipients wait until released; release: they are due now.
int queue_hold(const Config& config, storage::Id message_id);
int queue_release(const Config& config, storage::Id message_id);

}  // namespace postamt::server
