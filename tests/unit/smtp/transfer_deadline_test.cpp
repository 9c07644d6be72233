// How long an SMTP client may take to finish a command line or a message (issue 13).
#include "smtp/transfer_deadline.hpp"

#include <gtest/gtest.h>

namespace postamt::smtp {
namespace {

using namespace std::chrono_literals;
using Kind = TransferDeadline::Kind;

const TransferDeadline::Clock::time_point t0{};

TEST(TransferDeadline, NoDeadlineBetweenCommands) {
  TransferDeadline deadline(60s, 900s, 1024);
  EXPECT_FALSE(deadline.deadline());
  deadline.command_input(false, t0);
  EXPECT_FALSE(deadline.deadline());
}

TEST(TransferDeadline, ACommandLineCountsFromItsFirstOctet) {
  TransferDeadline deadline(60s, 900s, 1024);
  deadline.command_input(true, t0);
  deadline.command_input(true, t0 + 50s);  // a trickle does not restart the clock
  ASSERT_TRUE(deadline.deadline());
  EXPECT_EQ(deadline.deadline()->at, t0 + 60s);
  EXPECT_EQ(deadline.deadline()->kind, Kind::command);
  deadline.command_input(false, t0 + 55s);  // the line completed
  EXPECT_FALSE(deadline.deadline());
  deadline.command_input(true, t0 + 70s);
  EXPECT_EQ(deadline.deadline()->at, t0 + 130s);
}

TEST(TransferDeadline, DataOctetsBuyTimeUpToTheCap) {
  TransferDeadline deadline(60s, 900s, 1024);
  deadline.data_started(t0);
  EXPECT_EQ(deadline.deadline()->at, t0 + 60s);
  EXPECT_EQ(deadline.deadline()->kind, Kind::data);
  deadline.data_received(10);  // a trickle buys nothing
  EXPECT_EQ(deadline.deadline()->at, t0 + 60s);
  deadline.data_received(1024 * 100);
  EXPECT_EQ(deadline.deadline()->at, t0 + 160s);
  deadline.data_received(1024 * 10'000);  // however fast, data_timeout is the most
  EXPECT_EQ(deadline.deadline()->at, t0 + 900s);
  deadline.data_ended();
  EXPECT_FALSE(deadline.deadline());
}

TEST(TransferDeadline, ZeroRateMeansOnlyTheCap) {
  TransferDeadline deadline(60s, 300s, 0);
  deadline.data_started(t0);
  EXPECT_EQ(deadline.deadline()->at, t0 + 300s);
}

}  // namespace
}  // namespace postamt::smtp
