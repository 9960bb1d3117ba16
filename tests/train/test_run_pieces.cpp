// The trainer's small pieces on their own: the loop counters' archive, the
// run summary's JSON, the run clock, the run log and the checkpoint cadence.
// The whole loop is Train.* and Resume.*.
#include "gps/core/check.h"
#include "gps/train/checkpointer.h"
#include "gps/train/loop_counters.h"
#include "gps/train/run_clock.h"
#include "gps/train/run_log.h"
#include "gps/train/run_summary.h"
#include "gps/train/train_state.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

using namespace gps;
using ::testing::HasSubstr;

namespace {

torch::serialize::InputArchive reread(torch::serialize::OutputArchive& out) {
  std::ostringstream bytes;
  out.save_to(bytes);
  std::istringstream in(bytes.str());
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  return archive;
}

}  // namespace

TEST(LoopCounters, ArchiveRoundTripKeepsEveryCounter) {
  LoopCounters c;
  c.step = 123;
  c.lr_scale = 0.01;
  c.rollbacks = 2;
  c.budget_steps = 456;
  c.budget_spent_s = 78.5;
  c.probe_correct = 9;
  c.probe_seen = 40;
  torch::serialize::OutputArchive out;
  write_counters(out, c);
  auto in = reread(out);
  EXPECT_EQ(read_counters(in, "x.pt"), c);
}

TEST(LoopCounters, AnOlderCheckpointKeepsDefaultsForWhatItLacks) {
  torch::serialize::OutputArchive out;
  out.write("step", torch::tensor(int64_t(7)));  // a checkpoint from before the budget and rollbacks
  auto in = reread(out);
  LoopCounters want;
  want.step = 7;
  EXPECT_EQ(read_counters(in, "old.pt"), want);
}

TEST(LoopCounters, AnEntryOfTheWrongSizeNamesTheFile) {
  torch::serialize::OutputArchive out;
  out.write("probe_counts", torch::tensor({int64_t(1), int64_t(2), int64_t(3)}));
  auto in = reread(out);
  const std::string e = test::error_of([&] { read_counters(in, "damaged.pt"); });
  EXPECT_THAT(e, HasSubstr("damaged.pt"));
  EXPECT_THAT(e, HasSubstr("probe_counts"));
}

TEST(RunSummary, JsonRoundTripKeepsEveryField) {
  RunSummary s;
  s.method = "byol";
  s.gps = true;
  s.device = "cuda:0";
  s.precision = "bf16";
  s.channels_last = true;
  s.steps = 390;
  s.train_seconds = 12.5;
  s.images_per_second = 671.25;
  s.data_wait_seconds = 0.75;
  s.prefetch = 15;
  s.final_loss = 1.625;
  s.online_probe_train_top1 = 64.5;
  s.online_probe_test_top1 = 61.25;
  s.table = {"runs/cache/tables/abc", "pixels|k=4", true, 3.5};
  s.cuda = true;
  s.gpu_peak_allocated = int64_t(3) << 20;
  s.gpu_peak_reserved = int64_t(5) << 20;
  s.eval.done = true;
  s.eval.linear_top1 = 77.11;
  s.eval.knn_top1 = 76.57;
  s.eval.linear_per_class = {50.0, 100.0};
  s.eval.linear_select = "val";
  s.eval.linear_val_top1 = 75.0;
  s.eval.test_images = 10000;
  s.budget = {{"minutes", 5.0}, {"step_seconds", 0.25}};
  s.eval_seconds = 9.5;
  s.run_seconds = 300.25;

  const nlohmann::json j = s.to_json();
  EXPECT_EQ(j["gpu_memory_mib"]["peak_allocated"].get<double>(), 3.0);
  const RunSummary back = RunSummary::from_json(j, "summary.json");
  EXPECT_EQ(back.to_json(), j);  // every field the writer writes, the reader reads
  EXPECT_EQ(back.gpu_peak_reserved, s.gpu_peak_reserved);
  EXPECT_EQ(back.table.fingerprint, "pixels|k=4");
  EXPECT_EQ(back.eval.linear_per_class, s.eval.linear_per_class);
  EXPECT_TRUE(back.eval.done);
}

TEST(RunSummary, OptionalPartsAreLeftOutAndReadBackAsAbsent) {
  RunSummary s;  // a CPU run without evaluation or budget
  s.run_seconds = 4;
  const nlohmann::json j = s.to_json();
  EXPECT_FALSE(j.contains("gpu_memory_mib"));
  EXPECT_FALSE(j.contains("eval"));
  EXPECT_FALSE(j.contains("budget"));
  EXPECT_FALSE(j.contains("eval_seconds"));
  const RunSummary back = RunSummary::from_json(j, "summary.json");
  EXPECT_FALSE(back.cuda);
  EXPECT_FALSE(back.eval.done);
  EXPECT_TRUE(back.budget.is_null());
  EXPECT_EQ(back.online_probe_train_top1, -1);
  EXPECT_EQ(back.online_probe_test_top1, -1);
  // A summary written before the held-out figure existed: its training-view figure keeps its meaning.
  EXPECT_EQ(RunSummary::from_json({{"online_probe_top1", 55.5}}, "old/summary.json").online_probe_train_top1, 55.5);
}

TEST(RunSummary, DamagedFilesAreNamed) {
  test::TempDir dir;
  EXPECT_FALSE(find_run_summary(dir.path.string()).has_value());  // a run still going
  test::write_bytes(dir.file("summary.json"), "{\"steps\": ");
  EXPECT_THAT(test::error_of([&] { find_run_summary(dir.path.string()); }), HasSubstr("summary.json: not valid JSON"));
  test::write_bytes(dir.file("summary.json"), "{\"steps\": \"many\"}");
  EXPECT_THAT(test::error_of([&] { read_run_summary(dir.file("summary.json")); }),
              HasSubstr("summary.json: a value of the wrong type"));
  test::write_bytes(dir.file("summary.json"), "{\"eval\": {\"linear_top1\": []}}");
  EXPECT_THAT(test::error_of([&] { read_run_summary(dir.file("summary.json")); }), HasSubstr("\"eval\""));
}

TEST(RunClock, TheSpanLeavesOutExcludedSecondsAndStartsAgain) {
  RunClock clock;
  clock.start_span(10);
  clock.waited(0.5);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  const double before = clock.span_seconds();
  EXPECT_GE(before, 0.035);
  clock.exclude(0.03);
  EXPECT_NEAR(clock.span_seconds(), before - 0.03, 0.02);
  EXPECT_EQ(clock.data_wait_seconds(), 0.5);
  // 20 steps of 4 images over the span's seconds.
  EXPECT_NEAR(clock.images_per_second(30, 4), 80.0 / clock.span_seconds(), 80.0 / clock.span_seconds() * 0.2);
  EXPECT_GE(clock.run_seconds(), clock.span_seconds());
  clock.start_span(50);  // a rollback: speed and waits from here
  EXPECT_EQ(clock.span_first_step(), 50);
  EXPECT_EQ(clock.data_wait_seconds(), 0.0);
  EXPECT_LT(clock.span_seconds(), 0.02);
}

TEST(RunLog, AMessageEndsNoLineAndFollowersStayQuiet) {
  test::TempDir dir;
  {
    RunLog log(RunDir::create(dir.path.string(), "run"), true);
    log.metrics({{"step", 1}, {"loss", 2.5}});
    testing::internal::CaptureStderr();
    log.messagef("table %s (%.1fs)", "built", 1.5);
    log.warning("low budget");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "[gps] table built (1.5s)\n[gps] warning: low budget\n");
    EXPECT_EQ(test::read_bytes(log.dir().file("metrics.jsonl")), "{\"loss\":2.5,\"step\":1}\n");
  }
  RunLog follower(RunDir::follow((dir.path / "run").string()), false);
  testing::internal::CaptureStderr();
  follower.message("rank 1 says this");
  follower.metrics({{"step", 2}});
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(test::read_bytes((dir.path / "run" / "metrics.jsonl").string()), "{\"loss\":2.5,\"step\":1}\n");
}

TEST(Checkpointer, CadenceInStepsAndEpochsNeverAtTheEnd) {
  TrainConfig t;
  t.checkpoint_every_epochs = 2;
  t.checkpoint_every_steps = 0;
  const Checkpointer by_epoch(t, "unused", 10, true);
  EXPECT_FALSE(by_epoch.due(10, 100));
  EXPECT_TRUE(by_epoch.due(20, 100));
  EXPECT_TRUE(by_epoch.due(80, 100));
  EXPECT_FALSE(by_epoch.due(100, 100));  // checkpoint.pt follows
  t.checkpoint_every_steps = 3;
  const Checkpointer both(t, "unused", 10, true);
  EXPECT_TRUE(both.due(3, 100));
  EXPECT_TRUE(both.due(20, 100));
  EXPECT_FALSE(both.due(4, 100));
  t.checkpoint_every_epochs = t.checkpoint_every_steps = 0;
  const Checkpointer never(t, "unused", 10, true);
  for (int64_t s = 1; s <= 100; ++s) EXPECT_FALSE(never.due(s, 100));
}

TEST(TrainState, FixedLrModulesKeepTheBaseLrThroughTheSchedule) {
  Config c;
  c.method.name = "simsiam";
  c.method.proj_hidden_dim = c.method.proj_output_dim = 8;
  c.method.pred_hidden_dim = 4;
  c.model.width = 2;
  c.optim.batch_size = 512;  // lr x 2 (optim.scale_lr)
  c.optim.lr = 0.05;
  TrainState s = make_train_state(c, 1, 10, torch::kCPU);
  EXPECT_EQ(s.group_names,
            (std::vector<std::string>{"weights", "norms_biases", "fixed_weights", "fixed_norms_biases", "classifier"}));
  // The predictor's parameters, and only they, are in the fixed groups.
  auto& groups = s.optimizer->param_groups();
  size_t predictor_params = 0;
  for (auto& item : s.method->named_parameters())
    if (item.key().rfind("predictor.", 0) == 0 && item.value().requires_grad()) ++predictor_params;
  EXPECT_EQ(groups[2].params().size() + groups[3].params().size(), predictor_params);
  s.set_schedule_lr(0.001);
  EXPECT_DOUBLE_EQ(groups[0].options().get_lr(), 0.001);
  EXPECT_DOUBLE_EQ(groups[1].options().get_lr(), 0.001);
  EXPECT_DOUBLE_EQ(groups[2].options().get_lr(), 0.1);  // the base lr, scaled
  EXPECT_DOUBLE_EQ(groups[3].options().get_lr(), 0.1);
  // A method without fixed modules keeps today's groups.
  c.method.name = "byol";
  EXPECT_EQ(make_train_state(c, 1, 0, torch::kCPU).group_names, (std::vector<std::string>{"weights", "norms_biases"}));
}
