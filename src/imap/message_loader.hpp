#pragma once
// Loading a batch of messages for the selected-state commands (FETCH, SEARCH, SORT,
// THREAD): the records, their parsed metadata and their bytes (or only their top-level
// header, from the header cache when it has it), in one trip to the storage pool.
#include <asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/imap_service_state.hpp"
#include "mime/message_metadata.hpp"
#include "storage/api/types.hpp"

namespace postamt::imap {

// Loaded data of one batch: record, parsed metadata and (when asked) content, by UID.
struct LoadedMessage {
  storage::MessageRecord record;
  std::optional<mime::MessageMetadata> metadata;
  std::string content;
};

// Loads records (+ metadata, + content) of the given UIDs (ascending) on the storage pool.
// With `header_prefix` only the top-level header is read: from the header cache when it has
// the blob, else from the blob up to the header's end, which the metadata gives
// (deserialized then even when `metadata` is false). Messages expunged meanwhile are left
// out; the result is in UID order.
asio::awaitable<storage::StoreResult<std::vector<LoadedMessage>>> load_batch(
    ImapServiceState& state, storage::Id mailbox_id, const std::vector<std::uint32_t>& uids,
    bool metadata, bool content, bool header_prefix = false);

}  // namespace postamt::imap
