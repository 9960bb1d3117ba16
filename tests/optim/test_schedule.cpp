#include "gps/optim/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

using gps::warmup_cosine;

// Values at the start, the end of warm-up, the middle of the cosine and the end.
TEST(Schedule, WarmupCosineKeyPoints) {
  const int64_t total = 1000, warm = 100;
  const double base = 0.4, start = 3e-5, min_lr = 0.0;
  EXPECT_DOUBLE_EQ(warmup_cosine(0, total, warm, base, start, min_lr), start);
  EXPECT_NEAR(warmup_cosine(50, total, warm, base, start, min_lr), start + (base - start) * 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(warmup_cosine(warm, total, warm, base, start, min_lr), base);
  EXPECT_NEAR(warmup_cosine(warm + (total - warm) / 2, total, warm, base, start, min_lr), base / 2, 1e-12);
  EXPECT_NEAR(warmup_cosine(total, total, warm, base, start, min_lr), min_lr, 1e-12);
  EXPECT_NEAR(warmup_cosine(total + 5, total, warm, base, start, 0.01), 0.01, 1e-12);  // clamped
  // Monotone decreasing after warm-up.
  for (int64_t s = warm; s < total; ++s)
    EXPECT_GE(warmup_cosine(s, total, warm, base, start, min_lr), warmup_cosine(s + 1, total, warm, base, start, min_lr));
}

TEST(Schedule, NoWarmup) {
  EXPECT_DOUBLE_EQ(warmup_cosine(0, 10, 0, 1.0, 0.0, 0.0), 1.0);
  EXPECT_NEAR(warmup_cosine(5, 10, 0, 1.0, 0.0, 0.0), 0.5, 1e-12);
}

// optim.budget_minutes: the steps left fill the budget after what was spent
// and the evaluation's reserve; never fewer than taken, never above the cap.
TEST(Schedule, StepsWithinBudget) {
  using gps::steps_within_budget;
  // 100 s budget, 10 s spent at step 20, 1 s a step, 5 s reserved: 85 more steps.
  EXPECT_EQ(steps_within_budget(100, 10, 1.0, 5, 20, 1000), 105);
  EXPECT_EQ(steps_within_budget(100, 10, 2.0, 5, 20, 1000), 62);     // floor(85 / 2) = 42 more
  EXPECT_EQ(steps_within_budget(1e9, 10, 1.0, 5, 20, 1000), 1000);   // optim.epochs binds
  EXPECT_EQ(steps_within_budget(100, 120, 1.0, 5, 20, 1000), 20);    // spent already: stop now
  EXPECT_EQ(steps_within_budget(100, 96, 1.0, 5, 20, 1000), 20);     // the reserve alone is over
  EXPECT_EQ(steps_within_budget(100, 10, 0.0, 5, 20, 1000), 1000);   // no measurable cost
  EXPECT_EQ(steps_within_budget(100, 10, 1.0, 5, 1200, 1000), 1000); // never above the cap
}
