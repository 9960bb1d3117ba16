// One reader for a run directory (methods/run_reader.h, train/run_summary.h):
// a trained run read back as the CLI commands, the run prior, experiment/
// and gps_ssl.read_run read it.
#include "gps/core/check.h"
#include "gps/methods/run_reader.h"
#include "gps/train/run_summary.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

using namespace gps;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(RunReader, ReadsWhatTheTrainerWrote) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
  c.method.name = "byol";
  c.train.checkpoint_every_epochs = 1;
  const TrainResult r = train(c, "test");

  const RunReader run(r.run_dir, "--run");
  EXPECT_EQ(run.method_config().name, "byol");
  EXPECT_EQ(run.model_config().width, 2);
  EXPECT_EQ(run.config_section("model")["width"], 2);           // a plain number
  EXPECT_EQ(run.config_section("method")["name"], "byol");      // a quoted string
  EXPECT_TRUE(run.config_section("no_such_section").empty());
  EXPECT_EQ(run.checkpoint(), run.file("checkpoint.pt"));
  EXPECT_EQ(run.latest(), run.file("checkpoint.pt"));
  const auto all = run.checkpoints();  // periodic (epoch 1; the last epoch writes checkpoint.pt), then the final one
  ASSERT_EQ(all.size(), 2u);
  EXPECT_THAT(all[0], HasSubstr("checkpoints/step-000000003.pt"));
  EXPECT_EQ(all[1], run.file("checkpoint.pt"));

  // The method with its trained weights: what the trainer saved, bit for bit.
  Method m = run.load_method(1);
  std::vector<torch::Tensor> loaded;
  for (auto& p : m->parameters()) loaded.push_back(p.detach());
  for (auto& b : m->buffers()) loaded.push_back(b.detach());
  EXPECT_TRUE(test::bit_identical(loaded, test::weights_of(c, r.run_dir)));

  // The summary through its one reader: the numbers train() returned.
  const auto s = find_run_summary(r.run_dir);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->steps, r.steps);
  EXPECT_EQ(s->final_loss, r.final_loss);
  EXPECT_EQ(s->eval.linear_top1, r.eval.linear_top1);
  EXPECT_EQ(s->to_json(), static_cast<const RunSummary&>(r).to_json());
  EXPECT_TRUE(is_finished_run(r.run_dir));
}

TEST(RunReader, NamesTheOptionAndWhatIsMissing) {
  test::TempDir tmp;
  EXPECT_THAT(test::error_of([&] { RunReader(tmp.path.string(), "prior.path"); }),
              HasSubstr("prior.path: " + tmp.path.string() + " is not a gps run directory (no config.yaml)"));
  EXPECT_FALSE(RunReader::is_run(tmp.path.string()));
  test::write_bytes(tmp.file("config.yaml"), "model:\n  width: [1, 2]\n");
  const RunReader run(tmp.path.string(), "--run");
  EXPECT_THAT(test::error_of([&] { run.checkpoint(); }), HasSubstr("--run: " + tmp.path.string() + " has no checkpoint yet"));
  EXPECT_EQ(run.latest(), "");
  EXPECT_TRUE(run.checkpoints().empty());
  EXPECT_THAT(test::error_of([&] { run.model_config(); }), HasSubstr("model.width: expected a single value"));
  test::write_bytes(tmp.file("config.yaml"), "model: {width: 'eight'}\n");
  EXPECT_THAT(test::error_of([&] { run.model_config(); }), HasSubstr("config.yaml: unexpected model values"));
}

TEST(RunReader, ADamagedCheckpointThatLatestNamesIsRefused) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
  c.eval.enabled = false;
  const TrainResult r = train(c, "test");
  const RunReader run(r.run_dir, "--run");
  fs::remove(run.file("checkpoint.pt"));
  fs::rename(run.file("checkpoints"), run.file("moved"));
  // LATEST names checkpoint.pt, which is gone: the reader says so.
  EXPECT_THAT(test::error_of([&] { run.checkpoint(); }), HasSubstr("LATEST"));
}
