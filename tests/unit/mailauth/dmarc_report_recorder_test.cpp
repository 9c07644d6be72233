// DmarcEvaluationRecorder: evaluations reach the store in batches, the rest at stop(), and
// the buffer is bounded.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <chrono>

#include "../storage/temp_dir.hpp"
#include "mailauth/dmarc_report_recorder.hpp"
#include "net/blocking_pool.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::mailauth {
namespace {

storage::DmarcEvaluation evaluation() {
  storage::DmarcEvaluation e;
  e.time = 1'764'547'200;
  e.source_ip = "192.0.2.1";
  e.header_from = e.policy_domain = "example.org";
  e.policy.rua = "mailto:dmarc@example.org";
  return e;
}

std::uint64_t recorded(storage::MailStore& store) {
  auto reports = store.pending_dmarc_reports(4'000'000'000);
  EXPECT_TRUE(reports);
  std::uint64_t total = 0;
  for (const auto& report : *reports)
    for (const auto& group : report.groups) total += group.count;
  return total;
}

TEST(DmarcEvaluationRecorder, WritesFullBatchesAtOnceAndTheRestAtStop) {
  storage::test::TempDir dir;
  auto store = storage::open_sqlite_store(dir.path());
  net::BlockingPool pool(1);
  asio::io_context io;
  DmarcEvaluationRecorder recorder(*store, pool);
  recorder.start(io);
  for (int i = 0; i < 256; ++i) recorder.record(evaluation());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (recorded(*store) < 256 && std::chrono::steady_clock::now() < deadline)
    io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(recorded(*store), 256u) << "a full batch is written without waiting for the timer";
  for (int i = 0; i < 10; ++i) recorder.record(evaluation());
  recorder.stop();
  EXPECT_EQ(recorded(*store), 266u);
  io.run_for(std::chrono::milliseconds(100));  // the timer's loop ends
}

TEST(DmarcEvaluationRecorder, TheBufferIsBounded) {
  storage::test::TempDir dir;
  auto store = storage::open_sqlite_store(dir.path());
  net::BlockingPool pool(1);
  DmarcEvaluationRecorder recorder(*store, pool);  // not started: nothing flushes until stop()
  for (int i = 0; i < 20'010; ++i) recorder.record(evaluation());
  recorder.stop();
  EXPECT_EQ(recorded(*store), 20'000u);
}

}  // namespace
}  // namespace postamt::mailauth
