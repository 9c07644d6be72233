#include "storage/api/blob_reclaimer.hpp"

#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/metrics.hpp"

namespace postamt::storage {
namespace {

constexpr auto kMinGap = std::chrono::milliseconds(50);

metrics::Counter& reclaimed_counter() {
  static metrics::Counter& counter = metrics::registry().counter(
      "postamt_blobs_reclaimed_total", "Blob files removed while running (nothing referenced them)");
  return counter;
}

}  // namespace

BlobReclaimer::BlobReclaimer(MailStore& store, BlobStore& blobs, std::chrono::milliseconds interval)
    : store_(store), blobs_(blobs), interval_(interval) {}

BlobReclaimer::~BlobReclaimer() { stop(); }

void BlobReclaimer::start() {
  blobs_.pins().set_release_listener([this] { wake(); });
  thread_ = std::thread([this] { run(); });
}

void BlobReclaimer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  blobs_.pins().set_release_listener({});
}

void BlobReclaimer::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void BlobReclaimer::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      // Wakes come with commits: under load, one pass per kMinGap gathers many of them.
      wake_.wait_for(lock, kMinGap, [this] { return stopping_; });
      if (stopping_) return;
      woken_ = false;
    }
    if (auto done = reclaim_once(); !done) log::warn("store.reclaim_failed", {{"error", done.error().message}});
  }
}

StoreResult<std::size_t> BlobReclaimer::reclaim_once() {
  BlobPins& pins = blobs_.pins();
  std::vector<std::string> released = pins.take_released();
  auto unreferenced = store_.unreferenced_blobs();
  if (!unreferenced) {
    pins.requeue(released);
    return std::unexpected(unreferenced.error());
  }
  std::vector<std::string> candidates = std::move(*unreferenced);
  candidates.insert(candidates.end(), released.begin(), released.end());
  if (candidates.empty()) return 0;

  // Fenced: no put of these finds the file now until unfence (a put waits, then writes).
  const std::vector<std::string> fenced = pins.fence(std::move(candidates));
  auto removable = store_.forget_unreferenced_blobs(fenced);
  if (!removable) {
    pins.unfence(fenced);
    pins.requeue(released);
    return std::unexpected(removable.error());
  }
  std::size_t removed = 0;
  for (const std::string& id : *removable) {
    auto gone = blobs_.remove(id);
    if (gone) {
      ++removed;
    } else if (gone.error().code != StorageError::Code::not_found) {
      // Forgotten but still on disk: the start-up collection removes it (an orphan).
      log::warn("store.reclaim_remove_failed", {{"blob", id}, {"error", gone.error().message}});
    }
  }
  pins.unfence(fenced);
  if (removed > 0) {
    reclaimed_counter().inc(removed);
    log::debug("store.reclaimed", {{"files", removed}});
  }
  return removed;
}

}  // namespace postamt::storage
