#pragma once
// BlobPins: the blobs deliveries in flight hold, so that the reclaimer never removes a
// file a delivery is about to reference.
//
// Blobs are content-addressed: a delivery whose bytes are on disk already writes nothing
// and commits a row naming the existing file. Were that file removed between the put and
// the commit (its reference count being zero at that moment, say after an EXPUNGE of the
// same message), the committed row would name a file that is gone. So every put holds
// its blob until release(), after the commit (or the refusal) of the delivery, and the
// reclaimer fences the blobs it is about to remove: a put of a fenced blob waits until
// the removal is over, then writes the file afresh.
//
// A hold released with After::check (the delivery was refused: its file may be
// referenced by nothing) queues the blob for the reclaimer's next pass.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace postamt::storage {

class BlobPins {
 public:
  enum class After {
    referenced,  // a committed row names the blob: nothing to check
    check,       // refused or failed: the reclaimer checks whether anything names it
  };

  // Waits while the blob is fenced (being removed).
  void hold(std::string_view blob_id);
  void release(std::string_view blob_id, After after);

  // Of the candidates, those nobody holds, now fenced until unfence(); sorted, unique.
  std::vector<std::string> fence(std::vector<std::string> candidates);
  void unfence(std::span<const std::string> blob_ids);
  // The blobs whose last hold ended with After::check since the previous call.
  std::vector<std::string> take_released();
  // Queues blobs again for the next pass (a pass that failed).
  void requeue(std::span<const std::string> blob_ids);
  // Called (outside the lock) when a blob is queued for checking.
  void set_release_listener(std::function<void()> listener);

  std::size_t held() const;

 private:
  struct Hold {
    std::size_t count = 0;
    bool check = false;
  };
  // Beyond this many queued ids, more are dropped: the start-up collection finds them.
  static constexpr std::size_t kMaxQueued = 100000;

  mutable std::mutex mutex_;
  std::condition_variable unfenced_;
  std::unordered_map<std::string, Hold> holds_;
  std::unordered_set<std::string> fenced_;
  std::vector<std::string> released_;
  std::function<void()> listener_;
};

}  // namespace postamt::storage
