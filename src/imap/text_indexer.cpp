#include "imap/text_indexer.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "imap/message/message_text.hpp"
#include "imap/message/search_string.hpp"
#include "mime/message_metadata.hpp"

namespace postamt::imap {
namespace {

// After a failing store call the thread tries again this much later (or at the next wake).
constexpr std::chrono::milliseconds kRetryAfterError{30'000};

}  // namespace

TextIndexer::TextIndexer(storage::MailStore& store, storage::BlobStore& blobs,
                         TextIndexerOptions options)
    : store_(store), blobs_(blobs), options_(options) {}

TextIndexer::~TextIndexer() { stop(); }

void TextIndexer::start() {
  if (worker_.joinable() || stopping_) return;
  woken_ = true;  // the backlog (a fresh migration, mail that came while stopped) first
  worker_ = std::thread([this] { run(); });
}

void TextIndexer::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void TextIndexer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
}

bool TextIndexer::wait_for_work(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const auto ready = [this] { return woken_ || stopping_; };
  if (timeout.count() > 0) {
    wake_.wait_for(lock, timeout, ready);
  } else {
    wake_.wait(lock, ready);
  }
  woken_ = false;
  return !stopping_;
}

bool TextIndexer::wait_for_pause() {
  using Clock = std::chrono::steady_clock;
  const auto latest = Clock::now() + std::max(options_.max_delay, options_.quiet_period);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;  // wakes in the meantime are folded into this round
    const auto until = std::min(Clock::now() + options_.quiet_period, latest);
    const bool woken_again = wake_.wait_until(lock, until, [this] { return woken_ || stopping_.load(); });
    if (!woken_again || Clock::now() >= latest) break;
  }
  woken_ = false;
  return !stopping_;
}

void TextIndexer::run() {
  std::chrono::milliseconds timeout{0};
  while (wait_for_work(timeout)) {
    timeout = std::chrono::milliseconds{0};
    if (options_.quiet_period.count() > 0 && !wait_for_pause()) break;
    // Until nothing is waiting: a wake() that comes meanwhile finds the new blobs here too
    // (or, set again, sends the thread round once more for nothing).
    while (!stopping_) {
      auto batch = run_batch();
      if (!batch) {
        log::warn("imap.text_index_failed", {{"error", batch.error().message}});
        timeout = kRetryAfterError;
        break;
      }
      if (batch->idle()) break;
      log::debug("imap.text_indexed", {{"indexed", batch->indexed},
                                       {"skipped", batch->skipped},
                                       {"purged", batch->purged}});
    }
  }
}

storage::StoreResult<TextIndexBatch> TextIndexer::run_batch() {
  auto waiting = store_.unindexed_blobs(options_.batch_blobs, cursor_);
  if (!waiting) return std::unexpected(std::move(waiting.error()));
  TextIndexBatch outcome;
  std::vector<storage::BlobText> texts;
  std::size_t text_bytes = 0;
  std::int64_t last_seq = cursor_;  // becomes the cursor once what came before is stored
  const auto flush = [&]() -> storage::StoreResult<void> {
    if (!texts.empty()) {
      auto stored = store_.index_blob_texts(texts);
      if (!stored) return stored;  // the cursor stays: the same blobs come again
      outcome.indexed += texts.size();
      texts.clear();
      text_bytes = 0;
    }
    cursor_ = last_seq;
    return {};
  };
  // SEARCH reads the same blob and metadata and reports a failure itself; here such a blob
  // only stays unindexed, a candidate for every text search.
  const auto skip = [&](const storage::UnindexedBlob& blob, const std::string& error) {
    log::warn("imap.text_index_skipped", {{"blob", blob.blob_id}, {"error", error}});
    ++outcome.skipped;
    last_seq = blob.seq;
  };
  for (const storage::UnindexedBlob& blob : *waiting) {
    if (stopping_) break;
    ++outcome.examined;
    auto metadata = mime::MessageMetadata::deserialize(blob.mime_metadata);
    if (!metadata) {
      skip(blob, "metadata: " + metadata.error());
      continue;
    }
    auto content = blobs_.read(blob.blob_id);
    if (!content) {
      skip(blob, content.error().message);
      continue;
    }
    std::string text = searchable_header_text(*content);
    text += '\n';
    text += searchable_body_text(*content, *metadata);
    content = std::string();  // the message itself is not needed any more
    texts.push_back(storage::BlobText{blob.blob_id, fold_for_search(text)});
    text_bytes += texts.back().text.size();
    last_seq = blob.seq;
    if (text_bytes >= options_.batch_text_bytes) {
      if (auto stored = flush(); !stored) return std::unexpected(std::move(stored.error()));
    }
  }
  if (auto stored = flush(); !stored) return std::unexpected(std::move(stored.error()));
  auto purged = store_.purge_text_index(options_.purge_batch);
  if (!purged) return std::unexpected(std::move(purged.error()));
  outcome.purged = *purged;
  outcome.more_to_purge = *purged > 0 && *purged == options_.purge_batch;
  return outcome;
}

}  // namespace postamt::imap
