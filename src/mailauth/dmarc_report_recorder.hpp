#pragma once
// DmarcEvaluationRecorder: how the SMTP server records its DMARC evaluations for the
// aggregate reports without a store write per message. record() only appends to a
// buffer (any thread, never waits on the store); the buffer goes to the store in one
// transaction (MailStore::record_dmarc_evaluations, on the blocking pool) when 256 are
// waiting or every 2 seconds, and at stop(). Bounded: beyond 20,000 waiting (a store that
// cannot keep up or fails) new evaluations are dropped and counted in the log — reports
// are statistics, the mail itself never waits for them.
#include <asio/io_context.hpp>

#include <memory>

#include "storage/api/mail_store.hpp"

namespace postamt::net {
class BlockingPool;
}

namespace postamt::mailauth {

class DmarcEvaluationRecorder {
 public:
  DmarcEvaluationRecorder(storage::MailStore& store, net::BlockingPool& pool);
  ~DmarcEvaluationRecorder();
  DmarcEvaluationRecorder(const DmarcEvaluationRecorder&) = delete;
  DmarcEvaluationRecorder& operator=(const DmarcEvaluationRecorder&) = delete;

  // Any thread.
  void record(storage::DmarcEvaluation evaluation);

  // The flushing timer runs on `io`.
  void start(asio::io_context& io);
  // Writes what is waiting (blocking, on the calling thread) and stops the timer.
  void stop();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postamt::mailauth
