#include "mailauth/dmarc_report_recorder.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <mutex>
#include <vector>

#include "base/log.hpp"
#include "net/blocking_pool.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::size_t kBatch = 256;
constexpr std::size_t kMaxWaiting = 20'000;
constexpr auto kInterval = std::chrono::seconds(2);

}  // namespace

class DmarcEvaluationRecorder::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(storage::MailStore& store, net::BlockingPool& pool) : store_(store), pool_(pool) {}

  void record(storage::DmarcEvaluation evaluation) {
    bool full = false;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.size() >= kMaxWaiting) {
        ++dropped_;
        return;
      }
      waiting_.push_back(std::move(evaluation));
      full = waiting_.size() == kBatch;
    }
    if (full && io_ != nullptr) {
      asio::co_spawn(*io_, flush_on_pool(shared_from_this()), asio::detached);
    }
  }

  // Takes what is waiting and writes it (blocking). Writers take turns, so batches keep
  // their order.
  void write_waiting() {
    std::lock_guard writing(write_mutex_);
    std::vector<storage::DmarcEvaluation> batch;
    std::size_t dropped = 0;
    {
      std::lock_guard lock(mutex_);
      batch.swap(waiting_);
      dropped = std::exchange(dropped_, 0);
    }
    if (dropped > 0) log::warn("dmarc.evaluations_dropped", {{"count", dropped}});
    if (batch.empty()) return;
    if (auto written = store_.record_dmarc_evaluations(batch); !written) {
      log::error("dmarc.evaluations_not_recorded", {{"count", batch.size()}, {"error", written.error().message}});
    }
  }

  static asio::awaitable<void> flush_on_pool(std::shared_ptr<Impl> self) {
    auto work = [&] {
      self->write_waiting();
      return true;
    };
    co_await self->pool_.run(work);
  }

  static asio::awaitable<void> loop(std::shared_ptr<Impl> self) {
    while (!self->stopped_) {
      self->timer_->expires_after(kInterval);
      auto [ec] = co_await self->timer_->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      if (ec || self->stopped_) break;
      co_await flush_on_pool(self);
    }
  }

  storage::MailStore& store_;
  net::BlockingPool& pool_;
  asio::io_context* io_ = nullptr;
  std::unique_ptr<asio::steady_timer> timer_;
  bool stopped_ = false;
  std::mutex mutex_;
  std::mutex write_mutex_;
  std::vector<storage::DmarcEvaluation> waiting_;
  std::size_t dropped_ = 0;
};

DmarcEvaluationRecorder::DmarcEvaluationRecorder(storage::MailStore& store, net::BlockingPool& pool)
    : impl_(std::make_shared<Impl>(store, pool)) {}

DmarcEvaluationRecorder::~DmarcEvaluationRecorder() = default;

void DmarcEvaluationRecorder::record(storage::DmarcEvaluation evaluation) { impl_->record(std::move(evaluation)); }

void DmarcEvaluationRecorder::start(asio::io_context& io) {
  impl_->io_ = &io;
  impl_->timer_ = std::make_unique<asio::steady_timer>(io);
  asio::co_spawn(io, Impl::loop(impl_), asio::detached);
}

void DmarcEvaluationRecorder::stop() {
  if (impl_->timer_) {
    asio::post(impl_->timer_->get_executor(), [impl = impl_] {
      impl->stopped_ = true;
      impl->timer_->cancel();
    });
  }
  impl_->write_waiting();
}

}  // namespace postamt::mailauth
