// The wall-clock budget on its own (budget.h): when it settles, its first
// timing and decision, the decision kept from a checkpoint that predates
// the clock, and the one clock with excluded seconds. The whole loop with a
// budget is Train.BudgetMinutesSetsTheLengthAndRecordsIt.
#include "gps/train/budget.h"

#include <gtest/gtest.h>

#include <thread>

using namespace gps;

namespace {

Budget::Plan plan(double minutes) {
  Budget::Plan p;
  p.minutes = minutes;
  p.steps_per_epoch = 10;
  p.cap_steps = 100;
  p.warmup_steps = 30;
  p.batch = 16;
  return p;
}

}  // namespace

TEST(Budget, DueAtTheTimedSpanThenAtEpochEnds) {
  const Budget off(plan(0), Budget::Clock::now(), 0, 0, 0);
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.due(2, 0, 100));
  EXPECT_TRUE(off.info().is_null());

  Budget b(plan(30), Budget::Clock::now(), 0, 0, 0);
  // The first decision times steps [2, 10): max(20, min(warm-up 30, epoch 10)) = 20 steps after the start... capped
  // by the epoch: min(30, 10) = 10, then max(20, 10) = 20.
  EXPECT_TRUE(b.due(2, 0, 100));
  EXPECT_FALSE(b.due(3, 0, 100));
  EXPECT_TRUE(b.due(20, 0, 100));
  EXPECT_FALSE(b.due(10, 0, 100));  // an epoch end before the first decision: not the budget's
  const auto start = b.settle(2, 0, 100, 0, nullptr, true);
  EXPECT_FALSE(start.made);  // the timing starts here
  const auto first = b.settle(20, 0, 100, 0, nullptr, true);
  ASSERT_TRUE(first.made);
  EXPECT_GE(first.total_steps, 20);
  EXPECT_LE(first.total_steps, 100);
  EXPECT_EQ(b.decisions(), 1);
  EXPECT_EQ(b.info()["decided_at_step"], 20);
  EXPECT_EQ(b.info()["cap_steps"], 100);
  // Then at epoch ends at least 10 steps after the last decision, before the end.
  EXPECT_FALSE(b.due(29, 1, 100));
  EXPECT_TRUE(b.due(30, 1, 100));
  EXPECT_FALSE(b.due(100, 1, 100));
}

TEST(Budget, ACheckpointThatPredatesTheClockKeepsItsDecision) {
  // Decided (60 steps) but no seconds saved: that decision stands.
  const Budget kept(plan(30), Budget::Clock::now(), /*spent_before=*/0, /*decided=*/60, /*step=*/40);
  EXPECT_FALSE(kept.due(50, 60, 60));
  EXPECT_EQ(kept.info()["decided"], "before the resume");
  // With the seconds saved, it decides again at epoch ends, from its own timing.
  const Budget again(plan(30), Budget::Clock::now(), /*spent_before=*/600, /*decided=*/60, /*step=*/40);
  EXPECT_TRUE(again.due(50, 60, 60));
  EXPECT_GE(again.now(), 600.0);  // the clock goes on from the seconds spent
}

TEST(Budget, OneClockWithoutTheExcludedSeconds) {
  Budget b(plan(30), Budget::Clock::now() - std::chrono::seconds(100), /*spent_before=*/50, 0, 0);
  const double before = b.now();
  EXPECT_GE(before, 150.0);
  b.exclude(40);
  EXPECT_NEAR(b.now(), before - 40, 1.0);
}
