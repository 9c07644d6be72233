#include "imap/message_loader.hpp"

#include "storage/api/mail_store.hpp"

namespace postamt::imap {

using storage::StorageError;

asio::awaitable<storage::StoreResult<std::vector<LoadedMessage>>> load_batch(
    ImapServiceState& state, storage::Id mailbox_id, const std::vector<std::uint32_t>& uids,
    bool metadata, bool content, bool header_prefix) {
  co_return co_await state.deps.pool.run([&]() -> storage::StoreResult<std::vector<LoadedMessage>> {
    // Headers only and no metadata wanted: the rows without their metadata first, and the
    // metadata (for the header's end) only of the messages whose header is not cached.
    const bool blobs_first = content && header_prefix && !metadata;
    auto records = blobs_first ? state.deps.store.fetch_message_blobs(mailbox_id, uids)
                               : state.deps.store.fetch_messages(mailbox_id, uids);
    if (!records) return std::unexpected(records.error());
    std::vector<std::optional<std::string>> cached(records->size());
    std::vector<bool> gone(records->size(), false);  // expunged between the two queries
    if (content && header_prefix) {
      std::vector<std::uint32_t> missing;
      for (std::size_t i = 0; i < records->size(); ++i) {
        cached[i] = state.headers.find((*records)[i].blob_id);
        if (!cached[i]) missing.push_back((*records)[i].uid);
      }
      if (blobs_first && !missing.empty()) {
        auto full = state.deps.store.fetch_messages(mailbox_id, missing);
        if (!full) return std::unexpected(full.error());
        std::size_t next = 0;  // both in UID order
        for (std::size_t i = 0; i < records->size(); ++i) {
          if (cached[i]) continue;
          storage::MessageRecord& record = (*records)[i];
          while (next < full->size() && (*full)[next].uid < record.uid) ++next;
          if (next < full->size() && (*full)[next].uid == record.uid) {
            record.mime_metadata = std::move((*full)[next].mime_metadata);
          } else {
            gone[i] = true;
          }
        }
      }
    }
    std::vector<LoadedMessage> loaded;
    loaded.reserve(records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
      if (gone[i]) continue;  // as if fetch_messages had not found it
      storage::MessageRecord& record = (*records)[i];
      LoadedMessage item;
      std::optional<std::string>& cached_header = cached[i];
      if (metadata || (content && header_prefix && !cached_header)) {
        auto parsed = mime::MessageMetadata::deserialize(record.mime_metadata);
        if (!parsed) {
          return storage::storage_error(StorageError::Code::io,
                                        "metadata of message " + std::to_string(record.uid) +
                                            " unreadable: " + parsed.error());
        }
        item.metadata = std::move(*parsed);
      }
      if (cached_header) {
        item.content = std::move(*cached_header);
      } else if (content && header_prefix && item.metadata && !item.metadata->parts.empty()) {
        const std::uint64_t header_end = item.metadata->parts.front().message_header_end;
        auto bytes = state.deps.blobs.read_range(record.blob_id, 0, header_end);
        if (!bytes) return std::unexpected(bytes.error());
        if (bytes->size() == header_end) state.headers.insert(record.blob_id, *bytes);
        item.content = std::move(*bytes);
      } else if (content) {
        // The record's size is the blob's: a read of exactly that much needs no stat.
        auto bytes = state.deps.blobs.read_range(record.blob_id, 0, record.size);
        if (!bytes) return std::unexpected(bytes.error());
        item.content = std::move(*bytes);
      }
      item.record = std::move(record);
      loaded.push_back(std::move(item));
    }
    return loaded;
  });
}

}  // namespace postamt::imap
