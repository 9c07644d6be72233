#pragma once
// JunkTraining: IMAP's JunkTrainer (imap/junk_trainer.hpp) for the server. Each lesson's
// messages are read from the blob store on the blocking pool and told to every registered
// SpamLearner (filter/spam_learner.hpp: the built-in classifier, rspamd's controller), one
// message after another, on an I/O context. Fire and forget: train() only queues. At most
// `max_pending` messages wait; beyond that a lesson is dropped with a log line
// (filter.junk_training_dropped). Each message taught logs filter.junk_lesson per learner.
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "filter/spam_learner.hpp"
#include "imap/junk_trainer.hpp"

namespace asio {
class io_context;
}
namespace postamt {
namespace storage {
class BlobStore;
}
namespace net {
class BlockingPool;
}
}  // namespace postamt

namespace postamt::server {

class JunkTraining final : public imap::JunkTrainer {
 public:
  JunkTraining(asio::io_context& context, storage::BlobStore& blobs, net::BlockingPool& pool,
               std::size_t max_pending = 256);
  ~JunkTraining() override;

  // Before serving only.
  void add_learner(std::shared_ptr<filter::SpamLearner> learner);
  bool empty() const;

  void train(std::string account, std::vector<std::string> blob_ids, imap::JunkLesson lesson) override;

  std::size_t pending() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace postamt::server
