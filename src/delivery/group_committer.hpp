#pragma once
// GroupCommitter: concurrent deliveries share one transaction and one fsync
// (DESIGN.md "Group commit"). Sessions hand in their delivery and wait; a single writer
// thread takes everything that queued up while the previous batch was being written,
// commits it as one batch, and wakes each session with its own outcome. Under load the
// batches grow by themselves; alone, a delivery commits at once.
#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "delivery/message_preparer.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::delivery {

class GroupCommitter {
 public:
  using Outcome = storage::StoreResult<storage::DeliveryOutcome>;

  // With `blobs`, each batch starts with blobs->sync(): items prepared with
  // BlobDurability::with_group_commit become durable with it, one sync for the batch.
  explicit GroupCommitter(storage::MailStore& store, storage::BlobStore* blobs = nullptr,
                          std::size_t max_batch = 512);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Resumes on the caller's executor once the item's batch is on stable storage (or
  // failed). Safe to call from any I/O thread.
  // The item is moved from when the commit starts; it is taken by reference for the
  // reason BlockingPool::run gives.
  asio::awaitable<Outcome> commit(storage::DeliveryItem& item) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Outcome)>(
        [this](auto handler, storage::DeliveryItem* item) {
          auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
          enqueue(std::move(*item), [handler = std::move(handler), guard = std::move(guard)](Outcome outcome) mutable {
            auto executor = guard.get_executor();
            asio::post(executor, [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
              std::move(handler)(std::move(outcome));
            });
          });
        },
        asio::use_awaitable, &item);
  }

  // How items for this committer prepare their blobs.
  BlobDurability blob_durability() const {
    return blobs_ ? BlobDurability::with_group_commit : BlobDurability::immediate;
  }

  // Blocking form for callers off the I/O threads (CLI, tests).
  Outcome commit_blocking(storage::DeliveryItem item);

  // Stops after the queued items are committed.
  void stop();

  // Called on the writer thread after a batch that put something into the outbound queue
  // is committed (the queue scheduler's wake-up). Set it before the first commit.
  void set_queue_listener(std::function<void()> listener) { queue_listener_ = std::move(listener); }

 private:
  using Completion = std::move_only_function<void(Outcome)>;
  struct Pending {
    storage::DeliveryItem item;
    Completion done;
  };

  void enqueue(storage::DeliveryItem item, Completion done);
  void run();
  void release_blobs(const std::vector<storage::DeliveryItem>& items, const std::vector<Outcome>& outcomes);

  storage::MailStore& store_;
  storage::BlobStore* blobs_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::function<void()> queue_listener_;
  std::thread writer_;
};

}  // namespace postamt::delivery
