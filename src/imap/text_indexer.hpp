#pragma once
// TextIndexer: fills the store's full-text index (MailStore::index_blob_texts) with the
// searchable text of each stored blob, so SEARCH BODY / TEXT can ask for candidates instead
// of reading every message (see search_prefilter.hpp).
//
// The text of a blob is fold_for_search(searchable_header_text + "\n" +
// searchable_body_text): what the SEARCH matcher looks in, folded as it folds. Folding is
// per character, so a needle the matcher finds in the header or in the body is a substring
// of the indexed text too; the index never hides a match.
//
// It works on ONE thread of its own (as the GroupCommitter does), not on the blocking pool:
// the pool only runs work a coroutine awaits, and a job parked there between deliveries
// would hold one of its few storage threads for good. The thread sleeps on a condition
// variable until wake() (no polling), indexes in bounded batches (each one store
// transaction), and stop() ends it after the blob at hand.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::imap {

struct TextIndexerOptions {
  std::size_t batch_blobs = 64;               // blobs asked of the store at once
  std::size_t batch_text_bytes = 8u << 20;    // text stored per transaction at most (about)
  std::size_t purge_batch = 256;              // old texts removed per step at most
  // Indexing waits for a pause in the changes: it starts once no wake() came for
  // `quiet_period`, or `max_delay` after the first wake() of a round, whichever comes
  // first. While mail streams in, the index then neither competes with the deliveries for
  // the store's writer and the CPU nor writes one transaction per message; the stream is
  // indexed in a few large transactions when it pauses, and at least every `max_delay`.
  // Searches stay exact meanwhile: messages not indexed yet are always candidates.
  // quiet_period zero: at once after each wake().
  std::chrono::milliseconds quiet_period{0};
  std::chrono::milliseconds max_delay{0};
};

// What one batch step did.
struct TextIndexBatch {
  std::size_t examined = 0;  // blobs taken from the store; 0: nothing is waiting
  std::size_t indexed = 0;   // texts handed to the store
  std::size_t skipped = 0;   // unreadable blob or metadata: left unindexed (always a candidate)
  std::size_t purged = 0;    // texts of blobs whose last message went, removed
  bool more_to_purge = false;
  bool idle() const { return examined == 0 && !more_to_purge; }
};

class TextIndexer {
 public:
  TextIndexer(storage::MailStore& store, storage::BlobStore& blobs,
              TextIndexerOptions options = {});
  ~TextIndexer();  // stops
  TextIndexer(const TextIndexer&) = delete;
  TextIndexer& operator=(const TextIndexer&) = delete;

  // Starts the thread, which first works through whatever is waiting. Once only.
  void start();
  // New messages may be waiting: from the store's change listener, any thread, cheap.
  void wake();
  // Ends the thread after the blob it is reading (what it had not stored stays unindexed,
  // and is indexed after the next start). Idempotent; also before start().
  void stop();

  // One step, on the calling thread: takes up to batch_blobs waiting blobs beyond the ones
  // already looked at and stores their texts, then purges up to purge_batch old texts. Blobs it cannot read are skipped until the next
  // start (they stay unindexed, so every search still considers them). Only one thread may
  // call it at a time: the thread start() runs, or a test that did not call start().
  storage::StoreResult<TextIndexBatch> run_batch();

 private:
  void run();
  // Waits for `quiet_period` without wake(), at most until `max_delay`; false once stopping.
  bool wait_for_pause();
  // Waits for wake() or stop(), at most `timeout` when nonzero; false once stopping.
  bool wait_for_work(std::chrono::milliseconds timeout);

  storage::MailStore& store_;
  storage::BlobStore& blobs_;
  const TextIndexerOptions options_;
  std::int64_t cursor_ = 0;  // the last pending seq looked at (run_batch's caller only)

  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  std::atomic<bool> stopping_ = false;
  std::thread worker_;
};

}  // namespace postamt::imap
