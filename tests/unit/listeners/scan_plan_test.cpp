// Search order, sweep size and search budget.
#include "collectors/listeners/scan_plan.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

SearchCandidate C(uint32_t pid, uint32_t uid, bool changed, bool holder, bool young) {
  return {pid, uid, changed, holder, young};
}

TEST(OrderSearch, LikelyHoldersFirstThenNewestPid) {
  std::vector<SearchCandidate> all = {
      C(10, 0, false, false, false),   // rest
      C(11, 33, false, false, false),  // socket's user
      C(12, 0, false, true, false),    // holder
      C(13, 33, false, true, false),   // holder of the socket's user
      C(14, 0, false, false, true),    // young
      C(15, 0, true, false, false),    // fd count changed
      C(16, 33, true, false, false),   // fd count changed, socket's user
      C(17, 0, true, true, false),     // fd count changed, holder
      C(20, 0, false, false, false),   // rest, newer
  };
  EXPECT_EQ(OrderSearch(all, {33}), (std::vector<uint32_t>{17, 16, 15, 14, 13, 12, 11, 20, 10}));
}

TEST(OrderSearch, WithoutUidsUserRanksCollapse) {
  EXPECT_EQ(OrderSearch({C(5, 33, false, false, false), C(6, 0, false, false, false)}, {}),
            (std::vector<uint32_t>{6, 5}));
  EXPECT_TRUE(OrderSearch({}, {1}).empty());
}

TEST(SweepCount, BoundedByPeriodAndByCycles) {
  // 1 s interval, 600 s period: 1/600 of 500 processes, rounded up.
  EXPECT_EQ(SweepCount(500, 1, 600, 128), 1u);
  // 5 s interval: 1/120 would be more than 1/128 per cycle; the per-cycle cap wins.
  EXPECT_EQ(SweepCount(500, 5, 600, 128), 4u);
  EXPECT_EQ(SweepCount(1280, 5, 600, 128), 10u);
  // 60 s interval: capped at 1/128 per cycle.
  EXPECT_EQ(SweepCount(1280, 60, 600, 128), 10u);
  // 30 s interval, 2560 processes: 1/20 of them, capped at 1/128 = 20.
  EXPECT_EQ(SweepCount(2560, 30, 600, 128), 20u);
  // 1 s interval, 6000 processes: 10 per cycle covers them all in 600 s.
  EXPECT_EQ(SweepCount(6000, 1, 600, 128), 10u);
}

TEST(SweepCount, AtLeastOneAtMostAll) {
  EXPECT_EQ(SweepCount(0, 5, 600, 128), 0u);
  EXPECT_EQ(SweepCount(3, 0, 600, 128), 1u);  // first cycle: nothing elapsed
  EXPECT_EQ(SweepCount(10, 1, 0, 1), 10u);    // period 0: 1/min_cycles per cycle
  EXPECT_EQ(SweepCount(10, 1, 0, 4), 3u);
  EXPECT_EQ(SweepCount(10, -5, 600, 128), 1u);  // a clock step backwards
  EXPECT_EQ(SweepCount(10, 1, 0, 0), 10u);      // nonsense min_cycles is taken as 1
}

TEST(ScanBudget, FullAtStartThenRefillsAtOneFullScanPerPeriod) {
  ScanBudget b(120);
  b.Refill(1000, 10000);
  EXPECT_TRUE(b.Available());
  b.Spend(10000);
  EXPECT_FALSE(b.Available());
  b.Refill(1060, 10000);  // half a period: half a full scan
  EXPECT_TRUE(b.Available());
  b.Spend(5000);
  EXPECT_FALSE(b.Available());
  b.Refill(10000, 10000);  // long idle: capped at one full scan
  b.Spend(10000);
  EXPECT_FALSE(b.Available());
}

TEST(ScanBudget, OverspendIsPaidBack) {
  ScanBudget b(100);
  b.Refill(0, 1000);
  b.Spend(3000);  // one process had more fds than the whole budget
  b.Refill(100, 1000);
  EXPECT_FALSE(b.Available());
  b.Refill(200, 1000);
  EXPECT_FALSE(b.Available());  // exactly paid back, still nothing to spend
  b.Refill(210, 1000);
  EXPECT_TRUE(b.Available());
}

}  // namespace
}  // namespace portwarden
