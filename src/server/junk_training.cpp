#include "server/junk_training.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "base/log.hpp"
#include "net/blocking_pool.hpp"
#include "storage/api/blob_store.hpp"

namespace postamt::server {

struct JunkTraining::State {
  asio::io_context& context;
  storage::BlobStore& blobs;
  net::BlockingPool& pool;
  std::size_t max_pending;
  std::vector<std::shared_ptr<filter::SpamLearner>> learners;
  std::atomic<std::size_t> pending{0};
};

namespace {

std::string_view lesson_name(filter::Lesson lesson) { return lesson == filter::Lesson::spam ? "spam" : "ham"; }

}  // namespace

JunkTraining::JunkTraining(asio::io_context& context, storage::BlobStore& blobs, net::BlockingPool& pool,
                           std::size_t max_pending)
    : state_(std::make_shared<State>(context, blobs, pool, max_pending)) {}

JunkTraining::~JunkTraining() = default;

void JunkTraining::add_learner(std::shared_ptr<filter::SpamLearner> learner) {
  if (learner) state_->learners.push_back(std::move(learner));
}

bool JunkTraining::empty() const { return state_->learners.empty(); }

std::size_t JunkTraining::pending() const { return state_->pending.load(); }

void JunkTraining::train(std::string account, std::vector<std::string> blob_ids, imap::JunkLesson junk_lesson) {
  if (blob_ids.empty() || state_->learners.empty()) return;
  const filter::Lesson lesson = junk_lesson == imap::JunkLesson::spam ? filter::Lesson::spam : filter::Lesson::ham;
  const std::size_t count = blob_ids.size();
  std::size_t before = state_->pending.load();
  do {
    if (before + count > state_->max_pending) {
      log::warn("filter.junk_training_dropped",
                {{"account", account}, {"lesson", lesson_name(lesson)}, {"messages", count}, {"pending", before}});
      return;
    }
  } while (!state_->pending.compare_exchange_weak(before, before + count));
  auto work = [](std::shared_ptr<State> state, std::string account, std::vector<std::string> blob_ids,
                 filter::Lesson lesson) -> asio::awaitable<void> {
    for (const std::string& blob_id : blob_ids) {
      auto bytes = co_await state->pool.run([&] { return state->blobs.read(blob_id); });
      if (!bytes) {
        log::warn("filter.junk_lesson_unreadable", {{"account", account}, {"blob", blob_id},
                                                    {"error", bytes.error().message}});
        --state->pending;
        continue;
      }
      auto message = std::make_shared<const std::string>(std::move(*bytes));
      for (const auto& learner : state->learners) {
        const std::string failed = co_await learner->learn(account, message, lesson);
        if (failed.empty()) {
          log::info("filter.junk_lesson", {{"account", account}, {"learner", learner->name()},
                                           {"lesson", lesson_name(lesson)}, {"blob", blob_id}});
        } else {
          log::warn("filter.junk_lesson_failed", {{"account", account}, {"learner", learner->name()},
                                                  {"lesson", lesson_name(lesson)}, {"error", failed}});
        }
      }
      --state->pending;
    }
  };
  asio::co_spawn(state_->context, work(state_, std::move(account), std::move(blob_ids), lesson), asio::detached);
}

}  // namespace postamt::server
