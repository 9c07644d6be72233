#pragma once
// BlobStore: message bytes, written once, named by their SHA-256, durable before put()
// returns (temporary file, fsync, rename, directory fsync). Reference counts live in the
// MailStore index; the BlobStore only holds the files.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/api/blob_pins.hpp"
#include "storage/api/storage_error.hpp"

namespace postamt::storage {

struct BlobRef {
  std::string id;  // lower-case hex SHA-256
  std::uint64_t size = 0;
};

// A blob written as its bytes arrive (SMTP DATA spooled to disk instead of memory):
// append() them in order, then commit() stores them under the SHA-256 of everything
// appended, computed on the way. A writer destroyed before commit() leaves nothing
// behind. Blocking: use it from the storage pool.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual StoreResult<void> append(std::string_view bytes) = 0;
  virtual std::uint64_t size() const = 0;
  // Everything appended, readable without a copy (a file mapping) until the writer is
  // destroyed. Call it after the last append().
  virtual StoreResult<std::string_view> view() = 0;
  // Stores the blob like put() (`durable`) or put_unsynced(); at most once.
  virtual StoreResult<BlobRef> commit(bool durable) = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Starts a streamed blob. The default collects the bytes in memory and put()s them at
  // commit; a file-backed store writes them to a temporary file as they come.
  virtual StoreResult<std::unique_ptr<BlobWriter>> begin_write();
  // Stores the bytes unless a blob with the same id exists; durable on return.
  // A put that succeeded HOLDS its blob (blob_pins.hpp) until release(): the reclaimer
  // removes no blob held. Release it once the delivery's row is committed
  // (After::referenced) or the delivery refused or failed (After::check). A hold never
  // released only delays reclaiming to the next start. Any new way of writing a blob must
  // hold it (pins().hold) before it looks whether the file exists.
  virtual StoreResult<BlobRef> put(std::string_view bytes) = 0;
  // Group commit (DESIGN "Group commit"): stores the bytes like put() but returns before
  // they are on stable storage; they are once a later sync() returns. A crash before
  // that may leave the file absent or incomplete, so no index row may name the blob
  // until sync() succeeded (start-up garbage collection removes such files).
  virtual StoreResult<BlobRef> put_unsynced(std::string_view bytes) = 0;
  // Makes every blob written so far durable, whichever thread wrote it: one call for a
  // whole batch of put_unsynced().
  virtual StoreResult<void> sync() = 0;
  virtual StoreResult<std::string> read(std::string_view blob_id) = 0;
  // Reads at most `length` octets from `offset` (FETCH partials).
  virtual StoreResult<std::string> read_range(std::string_view blob_id, std::uint64_t offset,
                                              std::uint64_t length) = 0;
  virtual bool exists(std::string_view blob_id) = 0;
  virtual StoreResult<void> remove(std::string_view blob_id) = 0;
  // Every blob id on disk (for garbage collection of files no index row references).
  virtual StoreResult<std::vector<std::string>> list() = 0;

  virtual BlobPins& pins() = 0;
  void release(std::string_view blob_id, BlobPins::After after) { pins().release(blob_id, after); }
};

}  // namespace postamt::storage
