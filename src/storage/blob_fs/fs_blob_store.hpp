#pragma once
// FsBlobStore: the BlobStore on a local file system. A blob lives in
// root/<first two hex digits>/<64-hex SHA-256>; new blobs are written to root/tmp/,
// fsynced, renamed into place and the directory fsynced, so put() returns only once the
// bytes and their name are on stable storage. Blob ids are validated before any path is
// formed from them: ids are data, never paths.
#include <cstdint>
#include <filesystem>
#include <optional>

#include "storage/api/blob_store.hpp"

namespace postamt::storage {

class FsBlobStore final : public BlobStore {
 public:
  // Creates root and root/tmp when absent; throws std::runtime_error when it cannot
  // (a start-up failure).
  explicit FsBlobStore(std::filesystem::path root);

  StoreResult<BlobRef> put(std::string_view bytes) override;
  StoreResult<BlobRef> put_unsynced(std::string_view bytes) override;
  // A temporary file in root/tmp, hashed as it is written and renamed into place.
  StoreResult<std::unique_ptr<BlobWriter>> begin_write() override;
  // syncfs(2) of the file system holding the blobs: one journal commit for the batch.
  StoreResult<void> sync() override;
  StoreResult<std::string> read(std::string_view blob_id) override;
  // Beyond the end: what exists (possibly nothing). The allocation is bounded by the file.
  StoreResult<std::string> read_range(std::string_view blob_id, std::uint64_t offset,
                                      std::uint64_t length) override;
  bool exists(std::string_view blob_id) override;
  // not_found when the file is absent (a garbage collector resuming after a crash may
  // treat that as done).
  StoreResult<void> remove(std::string_view blob_id) override;
  // Sorted; ignores anything in the tree that is not a well-formed blob file name.
  StoreResult<std::vector<std::string>> list() override;

  BlobPins& pins() override { return pins_; }

  const std::filesystem::path& root() const { return root_; }
  // The file's size, or nullopt when it is absent (the health probe's sample).
  std::optional<std::uint64_t> file_size(std::string_view blob_id) const;
  // Creates and removes a file in root/tmp: "" when that works, else why not.
  std::string probe_writable() const;
  // Removes what root/tmp holds: files of writes a crash interrupted (a message spooled
  // while it arrived, a put between write and rename). Only the data directory's lock
  // holder calls it, at start, before any write; returns how many files went.
  std::size_t remove_temporary_files();

 private:
  std::filesystem::path path_of(std::string_view blob_id) const;
  class Writer;
  StoreResult<BlobRef> write(std::string_view bytes, bool durable);
  StoreResult<BlobRef> write_held(const BlobRef& ref, std::string_view bytes, bool durable);
  std::optional<StoreResult<BlobRef>> already_stored(const BlobRef& ref, bool durable);
  StoreResult<BlobRef> install(const std::filesystem::path& tmp, const BlobRef& ref, bool durable);

  std::filesystem::path root_;
  BlobPins pins_;
};

}  // namespace postamt::storage
