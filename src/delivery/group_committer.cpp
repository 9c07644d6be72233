#include "delivery/group_committer.hpp"

#include <algorithm>

#include <chrono>
#include <future>
#include <vector>

#include "base/log.hpp"
#include "base/metrics.hpp"

namespace postamt::delivery {
namespace {

struct CommitMetrics {
  metrics::Histogram& batch_size = metrics::registry().histogram(
      "postamt_delivery_batch_size", "Deliveries committed per transaction",
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
  metrics::Histogram& commit_seconds = metrics::registry().histogram(
      "postamt_delivery_commit_seconds", "Time to commit one batch durably",
      metrics::latency_buckets());
  metrics::Counter& failures = metrics::registry().counter(
      "postamt_delivery_commit_failures_total", "Batches whose commit failed");
};

}  // namespace

GroupCommitter::GroupCommitter(storage::MailStore& store, storage::BlobStore* blobs, std::size_t max_batch)
    : store_(store), blobs_(blobs), max_batch_(max_batch), writer_([this] { run(); }) {}

GroupCommitter::~GroupCommitter() { stop(); }

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void GroupCommitter::enqueue(storage::DeliveryItem item, Completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(item), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  if (blobs_ && !item.held_blob.empty()) blobs_->release(item.held_blob, storage::BlobPins::After::check);
  done(storage::storage_error(storage::StorageError::Code::busy, "the server is shutting down"));
}

// After the commit: the blobs the items held may go to the reclaimer. One a row now names
// needs no check; a refused or failed item's file may be named by nothing.
void GroupCommitter::release_blobs(const std::vector<storage::DeliveryItem>& items,
                                   const std::vector<Outcome>& outcomes) {
  if (!blobs_) return;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].held_blob.empty()) continue;
    const bool named = i < outcomes.size() && outcomes[i] &&
                       (!outcomes[i]->stored.empty() || outcomes[i]->queued.has_value());
    blobs_->release(items[i].held_blob,
                    named ? storage::BlobPins::After::referenced : storage::BlobPins::After::check);
  }
}

GroupCommitter::Outcome GroupCommitter::commit_blocking(storage::DeliveryItem item) {
  std::promise<Outcome> promise;
  auto future = promise.get_future();
  enqueue(std::move(item), [&promise](Outcome outcome) { promise.set_value(std::move(outcome)); });
  return future.get();
}

void GroupCommitter::run() {
  CommitMetrics counters;
  std::vector<Pending> batch;
  std::vector<storage::DeliveryItem> items;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    items.clear();
    for (auto& pending : batch) items.push_back(std::move(pending.item));
    const auto started = std::chrono::steady_clock::now();
    std::vector<storage::StoreResult<storage::DeliveryOutcome>> outcomes;
    // The batch's blobs reach stable storage before any row that names them.
    if (auto synced = blobs_ ? blobs_->sync() : storage::StoreResult<void>{}; !synced) {
      log::error("delivery.blob_sync_failed", {{"error", synced.error().message}, {"batch", items.size()}});
      outcomes.assign(items.size(), std::unexpected(synced.error()));
    } else {
      outcomes = store_.commit_deliveries(items);
    }
    counters.commit_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    counters.batch_size.observe(static_cast<double>(batch.size()));
    const bool queued = queue_listener_ && std::ranges::any_of(outcomes, [](const auto& outcome) {
      return outcome && outcome->queued.has_value();
    });
    release_blobs(items, outcomes);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (i < outcomes.size()) {
        batch[i].done(std::move(outcomes[i]));
      } else {
        counters.failures.inc();
        batch[i].done(storage::storage_error(storage::StorageError::Code::io, "batch commit lost an outcome"));
      }
    }
    batch.clear();
    if (queued) queue_listener_();
  }
}

}  // namespace postamt::delivery
