// The settle's pieces on their own: the step monitor's counts, and
// train.nan_policy's message, checkpoint choice and stop. The whole loop
// with a diverging run is Resume.* / OnDevice.NonFiniteLossStopsOrRollsBack.
#include "gps/core/check.h"
#include "gps/train/step_monitor.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

using namespace gps;
using ::testing::HasSubstr;

TEST(StepMonitor, FirstNonFiniteStepAndProbeCounts) {
  StepMonitor m(torch::kCPU);
  TrainState s;
  auto stats = [](double loss, int64_t correct) {
    StepStats st;
    st.loss = torch::tensor(loss);
    st.finite = torch::isfinite(st.loss);
    st.probe_loss = torch::tensor(0.5);
    st.probe_correct = torch::tensor(correct);
    st.logs["nt_xent"] = st.loss;
    return st;
  };
  m.record(stats(1.0, 3), 0);
  m.record(stats(NAN, 2), 1);
  m.record(stats(INFINITY, 1), 2);
  const Settled a = m.settle(s, nullptr);
  EXPECT_FALSE(a.finite);
  EXPECT_EQ(a.first_bad_step, 1);  // the first, not the last
  EXPECT_EQ(s.loop.probe_correct, 6);
  EXPECT_TRUE(std::isinf(a.loss));
  m.reset();
  m.record(stats(2.0, 4), 3);
  const Settled b = m.settle(s, nullptr);
  EXPECT_TRUE(b.finite);
  EXPECT_EQ(s.loop.probe_correct, 10);
  EXPECT_DOUBLE_EQ(b.logs.at("nt_xent"), 2.0);
}

TEST(NanGuard, NamesTheStepAndTermsAndPicksOlderCheckpointsInARow) {
  Settled s;
  s.finite = false;
  s.first_bad_step = 12;
  s.loss = NAN;
  s.logs = {{"nt_xent", NAN}, {"z_std", 0.1}};
  EXPECT_EQ(NanGuard::what(s, 15, 10),
            "non-finite loss at step 12 (epoch 1); at step 14: loss = nan; non-finite components: nt_xent = nan");
  s.first_bad_step = -1;
  EXPECT_THAT(NanGuard::what(s, 15, 10), HasSubstr("on another process"));

  test::TempDir tmp;
  std::filesystem::create_directories(tmp.file("run/checkpoints"));
  for (const char* f : {"step-000000010.pt", "step-000000020.pt", "step-000000030.pt"})
    test::write_bytes(tmp.file(std::string("run/checkpoints/") + f), "x");
  TrainConfig t;
  t.nan_policy = "stop";
  EXPECT_EQ(NanGuard(t).rollback_to(tmp.file("run"), 0), "");
  EXPECT_THAT(test::error_of([&] { NanGuard(t).stop("boom"); }), HasSubstr("set train.nan_policy=rollback"));
  t.nan_policy = "rollback";
  t.nan_max_rollbacks = 3;
  NanGuard g(t);
  EXPECT_THAT(g.rollback_to(tmp.file("run"), 0), HasSubstr("step-000000030.pt"));
  g.rolled_back();  // diverged again before the next checkpoint: one older
  EXPECT_THAT(g.rollback_to(tmp.file("run"), 1), HasSubstr("step-000000020.pt"));
  g.rolled_back();
  g.rolled_back();
  EXPECT_THAT(g.rollback_to(tmp.file("run"), 2), HasSubstr("step-000000010.pt"));  // the oldest, not past it
  EXPECT_EQ(g.rollback_to(tmp.file("run"), 3), "");  // train.nan_max_rollbacks reached
  g.checkpointed();
  EXPECT_THAT(g.rollback_to(tmp.file("run"), 0), HasSubstr("step-000000030.pt"));
  EXPECT_EQ(g.rollback_to(tmp.file("nothing"), 0), "");
  EXPECT_THAT(test::error_of([&] { g.stop("boom"); }), HasSubstr("rollbacks exhausted"));
}
