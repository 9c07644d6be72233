#pragma once
// BlobReclaimer: removes blob files nothing references any more while the server runs
// (an EXPUNGE, a deleted account, a queue entry done, a refused message), on a thread of
// its own, after the commit that dropped the last reference.
//
// Crash safety: what is to be checked lives in the index itself (rows of `blobs` whose
// reference count is zero, written by the very transaction that dropped the reference),
// plus the files of refused messages, queued in memory when their put's hold ends
// (blob_pins.hpp). A pass fences its candidates against new puts, forgets those still
// unreferenced in one transaction, and only then deletes their files: a crash in between
// leaves at worst a file no row knows, which the start-up collection removes. The holds
// keep it from removing a file that a delivery in flight found on disk and is about to
// name. Only the holder of the data directory's lock runs one.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::storage {

class BlobReclaimer {
 public:
  BlobReclaimer(MailStore& store, BlobStore& blobs,
                std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~BlobReclaimer();
  BlobReclaimer(const BlobReclaimer&) = delete;
  BlobReclaimer& operator=(const BlobReclaimer&) = delete;

  void start();
  void stop();
  // A commit may have dropped references (or a hold ended with a check): pass soon.
  void wake();

  // One pass: the files removed. Also what the thread runs.
  StoreResult<std::size_t> reclaim_once();

 private:
  void run();

  MailStore& store_;
  BlobStore& blobs_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postamt::storage
