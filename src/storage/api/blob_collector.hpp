#pragma once
// Blob garbage collection and the store consistency check.
//
// Blobs are written (and fsynced) before the index row that references them commits, so
// a crash can leave a blob file nothing references, never a row without its file. The
// collector removes such files and the blobs whose reference count fell to zero. It must
// not run while deliveries are in flight (a delivery may have written a blob whose row is
// not committed yet): the server runs it at start, before accepting connections.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::storage {

struct CollectResult {
  std::size_t removed_unreferenced = 0;  // reference count reached zero
  std::size_t removed_orphans = 0;       // files the index never knew
};

StoreResult<CollectResult> collect_blobs(MailStore& store, BlobStore& blobs);

struct ConsistencyReport {
  std::size_t messages = 0;
  std::size_t queued = 0;
  std::size_t blob_files = 0;
  std::vector<std::string> problems;  // one sentence each; empty when consistent
};

// Every message and queue entry has its blob file with the recorded size and content
// hash; every blob file is referenced.
StoreResult<ConsistencyReport> check_consistency(MailStore& store, BlobStore& blobs);

}  // namespace postamt::storage
