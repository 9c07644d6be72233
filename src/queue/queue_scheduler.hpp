#pragma once
// QueueScheduler: delivers what the outbound queue holds (DESIGN "queue/"). One coroutine
// on one io_context rescans the store for recipients that are due (at start, after every
// enqueue, when a delivery ends, and every queue_scan_interval for operator changes made
// with `postamt queue`), groups them by destination, and starts deliveries within the
// global and per-destination connection limits. Each delivery's outcome is written back:
// delivered, deferred with the next retry time, or bounced with a notice to the sender.
//
// Durability: a recipient is marked delivered only after the remote 250 (and any notice
// is committed before the state it explains), so a crash repeats at most an attempt.
#include <asio/io_context.hpp>

#include <memory>

#include "base/config.hpp"
#include "delivery/group_committer.hpp"
#include "net/blocking_pool.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::mailauth {
class DkimSigningService;
}

namespace postamt::queue {

struct SchedulerDependencies {
  const Config& config;
  storage::MailStore& store;
  storage::BlobStore& blobs;
  net::BlockingPool& pool;
  delivery::GroupCommitter& committer;
  // Signs the delivery notices Postamt originates (nullptr: unsigned).
  const mailauth::DkimSigningService* dkim;
};

class QueueScheduler {
 public:
  // Throws std::runtime_error when the resolver cannot start (a bad dns.servers entry).
  QueueScheduler(asio::io_context& io, SchedulerDependencies dependencies);
  ~QueueScheduler();

  void start();
  // Rescan now (new mail queued). Any thread.
  void wake();
  // No new deliveries; the loop ends. Any thread.
  void stop();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postamt::queue
