#include "storage/api/blob_store.hpp"

namespace postamt::storage {
namespace {

// For stores without files of their own (test doubles): the bytes wait in memory.
class MemoryBlobWriter final : public BlobWriter {
 public:
  explicit MemoryBlobWriter(BlobStore& store) : store_(store) {}

  StoreResult<void> append(std::string_view bytes) override {
    bytes_.append(bytes);
    return {};
  }
  std::uint64_t size() const override { return bytes_.size(); }
  StoreResult<std::string_view> view() override { return std::string_view(bytes_); }
  StoreResult<BlobRef> commit(bool durable) override {
    return durable ? store_.put(bytes_) : store_.put_unsynced(bytes_);
  }

 private:
  BlobStore& store_;
  std::string bytes_;
};

}  // namespace

StoreResult<std::unique_ptr<BlobWriter>> BlobStore::begin_write() {
  return std::make_unique<MemoryBlobWriter>(*this);
}

}  // namespace postamt::storage
