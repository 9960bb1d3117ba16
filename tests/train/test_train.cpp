// End-to-end training on a tiny dataset written by the test.
#include "gps/core/check.h"
#include "gps/methods/method.h"
#include "gps/train/checkpoint.h"
#include "gps/train/compare.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gps;

namespace {

Config tiny_config(const test::TempDir& tmp) { return test::tiny_train_config(tmp.file("fm"), tmp.file("runs")); }

}  // namespace

TEST(Train, WritesACompleteRunDirectory) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 40);
  Config c = tiny_config(tmp);
  c.train.name = "run";
  auto r = train(c, "gps train test");
  EXPECT_EQ(r.steps, 10);
  for (auto f : {"config.yaml", "command.txt", "metrics.jsonl", "checkpoint.pt", "summary.json"})
    EXPECT_TRUE(std::filesystem::exists(r.run_dir + "/" + f)) << f;
  std::ifstream m(r.run_dir + "/metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(m, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(j.contains("loss") && j.contains("z_std") && j.contains("lr") && j.contains("probe_acc"));
    ++lines;
  }
  EXPECT_EQ(lines, 10);
  ASSERT_TRUE(r.eval.done);
  EXPECT_EQ(r.eval.test_images, 40);
  EXPECT_GE(r.eval.linear_top1, 0.0);
  // The saved config reloads to the same run.
  auto again = load_config(r.run_dir + "/config.yaml", {});
  EXPECT_EQ(again.to_yaml(), c.to_yaml());
}

// Paper Proposition 1: GPS whose table holds only the image itself is plain SSL.
TEST(Train, GpsWithSelfOnlyTableIsBitIdenticalToPlain) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 20);
  Config plain = tiny_config(tmp);
  plain.eval.enabled = false;
  plain.gps = false;
  plain.train.name = "plain";
  Config gps = plain;
  gps.gps = true;
  gps.neighbors.rules.k = 1;
  gps.neighbors.rules.exclude_self = false;
  gps.train.name = "gps";
  auto a = train(plain, "test");
  auto b = train(gps, "test");
  EXPECT_TRUE(test::bit_identical(test::weights_of(plain, a.run_dir), test::weights_of(gps, b.run_dir)));
  // A real neighbour table changes training.
  Config gps4 = gps;
  gps4.neighbors.rules.k = 4;
  gps4.train.name = "gps4";
  auto d = train(gps4, "test");
  EXPECT_FALSE(test::bit_identical(test::weights_of(plain, a.run_dir), test::weights_of(gps4, d.run_dir)));
  // And the same seed reproduces a run exactly.
  gps4.train.name = "gps4-again";
  auto e = train(gps4, "test");
  EXPECT_TRUE(test::bit_identical(test::weights_of(gps4, d.run_dir), test::weights_of(gps4, e.run_dir)));
}

// Proposition 1 for every method: a self-only GPS table trains bit-identically to plain SSL.
TEST(Train, SelfOnlyTableEqualsPlainForEveryMethod) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 80, 20);
  for (const std::string& name : test::builtin_methods()) {
    if (name == "simclr") continue;  // Train.SelfOnlyTableEqualsPlain covers it
    Config plain = tiny_config(tmp);
    plain.method.name = name;
    plain.method.pred_hidden_dim = 16;
    plain.method.queue_size = 40;
    plain.optim.name = "lars";
    plain.eval.enabled = false;
    plain.gps = false;
    plain.train.name = name + "-plain";
    Config gps = plain;
    gps.gps = true;
    gps.neighbors.rules.k = 1;
    gps.train.name = name + "-gps";
    auto a = train(plain, "test");
    auto b = train(gps, "test");
    EXPECT_TRUE(test::bit_identical(test::weights_of(plain, a.run_dir), test::weights_of(gps, b.run_dir))) << name;
  }
}

TEST(Train, TableRefreshRebuildsFromTheModel) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 20);
  Config c = tiny_config(tmp);
  c.eval.enabled = false;
  c.neighbors.rules.k = 3;
  c.train.name = "fixed";
  auto fixed = train(c, "test");
  c.neighbors.refresh_every = 1;
  c.neighbors.refresh_features = "projector";
  c.train.name = "refresh";
  auto refreshed = train(c, "test");
  std::ifstream m(refreshed.run_dir + "/metrics.jsonl");
  std::string line;
  int refreshes = 0;
  while (std::getline(m, line))
    if (nlohmann::json::parse(line).value("event", "") == "table_refresh") ++refreshes;
  EXPECT_EQ(refreshes, 1);  // 2 epochs, refreshed before epoch 1
  EXPECT_FALSE(test::bit_identical(test::weights_of(c, fixed.run_dir), test::weights_of(c, refreshed.run_dir)));
  c.gps = false;
  EXPECT_THROW(c.validate(), gps::Error);
}

// eval.features=projector: the final probes see the projector's output
// (proj_output_dim wide), the backbone's by default; same weights either way.
TEST(Train, EvalFeaturesChoosesBackboneOrProjectorSpace) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 40);
  Config c = tiny_config(tmp);
  c.train.name = "backbone";
  auto b = train(c, "test");
  c.eval.features = "projector";
  c.train.name = "projector";
  auto p = train(c, "test");
  ASSERT_TRUE(b.eval.done && p.eval.done);
  EXPECT_EQ(b.eval.feature_dim, make_method(c.method, c.model, 1)->backbone()->feature_dim());
  EXPECT_EQ(p.eval.feature_dim, c.method.proj_output_dim);
  EXPECT_TRUE(test::bit_identical(test::weights_of(c, b.run_dir), test::weights_of(c, p.run_dir)));
  c.eval.features = "head";
  EXPECT_THROW(c.validate(), gps::Error);
}

// optim.budget_minutes sets the run's length after 20 timed steps: a budget
// already spent ends the run there, a generous one leaves optim.epochs; the
// decision is in summary.json, metrics.jsonl and the checkpoint.
TEST(Train, BudgetMinutesSetsTheLengthAndRecordsIt) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 40);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 10);  // 5 steps an epoch, 50 in all
  c.train.name = "short";
  c.optim.budget_minutes = 1e-6;
  auto r = train(c, "test");
  EXPECT_EQ(r.steps, 20);
  EXPECT_TRUE(r.eval.done);
  std::ifstream f(r.run_dir + "/summary.json");
  auto s = nlohmann::json::parse(f);
  EXPECT_EQ(s["budget"]["steps"], 20);
  EXPECT_EQ(s["budget"]["decided_at_step"], 20);
  EXPECT_EQ(s["budget"]["cap_steps"], 50);
  EXPECT_GT(s["budget"]["step_seconds"].get<double>(), 0.0);
  EXPECT_EQ(load_checkpoint(r.run_dir + "/checkpoint.pt", *make_method(c.method, c.model, 1), nullptr, nullptr).loop.budget_steps,
            20);
  std::ifstream m(r.run_dir + "/metrics.jsonl");
  std::string line;
  int events = 0;
  while (std::getline(m, line)) events += nlohmann::json::parse(line).value("event", "") == "budget";
  EXPECT_EQ(events, 1);

  // A budget that fits: the length is decided after 20 steps and again at
  // the epoch ends at least 10 steps later (30, 40); the checkpoint keeps the
  // length and the clock, which a resume continues from.
  c.train.name = "long";
  c.optim.budget_minutes = 1e5;
  auto l = train(c, "test");
  EXPECT_EQ(l.steps, 50);
  std::ifstream lf(l.run_dir + "/summary.json");
  auto ls = nlohmann::json::parse(lf);
  EXPECT_EQ(ls["budget"]["decisions"], 3);
  EXPECT_EQ(ls["budget"]["decided_at_step"], 40);
  EXPECT_EQ(ls["budget"]["steps"], 50);
  auto ck = load_checkpoint(l.run_dir + "/checkpoint.pt", *make_method(c.method, c.model, 1), nullptr, nullptr);
  EXPECT_EQ(ck.loop.budget_steps, 50);
  EXPECT_GT(ck.loop.budget_spent_s, ls["budget"]["spent_seconds"].get<double>());
  EXPECT_LE(ck.loop.budget_spent_s, ls["run_seconds"].get<double>());

  // Stopped after one step, then resumed: the resumed process's clock starts
  // from the minutes the checkpoint says were spent.
  c.train.name = "resumed";
  request_stop(true);
  auto first = train(c, "test");
  request_stop(false);
  ASSERT_TRUE(first.interrupted);
  const double spent =
      load_checkpoint(first.run_dir + "/checkpoint.pt", *make_method(c.method, c.model, 1), nullptr, nullptr).loop.budget_spent_s;
  EXPECT_GT(spent, 0.0);
  auto second = train(c, "test", {.run_dir = first.run_dir});
  EXPECT_EQ(second.steps, 50);
  std::ifstream rf(second.run_dir + "/summary.json");
  auto rs = nlohmann::json::parse(rf);
  EXPECT_EQ(rs["budget"]["decisions"], 3);  // at step 21 (20 steps after the resume), then at 35 and 45
  EXPECT_EQ(rs["budget"]["decided_at_step"], 45);
  EXPECT_GT(rs["budget"]["spent_seconds"].get<double>(), spent);
}

// A stop request (SIGINT/SIGTERM in the CLI) ends training after the current
// step with a checkpoint and a summary, and skips evaluation.
TEST(Train, StopRequestFinishesTheStepAndWritesACheckpoint) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 20);
  Config c = tiny_config(tmp);
  c.train.name = "stopped";
  request_stop(true);
  auto r = train(c, "test");
  request_stop(false);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.steps, 1);
  EXPECT_FALSE(r.eval.done);
  EXPECT_TRUE(std::filesystem::exists(r.run_dir + "/checkpoint.pt"));
  std::ifstream f(r.run_dir + "/summary.json");
  EXPECT_TRUE(nlohmann::json::parse(f).value("interrupted", false));
  EXPECT_EQ(load_checkpoint(r.run_dir + "/checkpoint.pt", *make_method(c.method, c.model, 1), nullptr, nullptr).loop.step, 1);
}

// An output folder that cannot be written fails at start-up, naming it,
// before a prior, a table or a step is computed: a path through a regular
// file (a missing folder that cannot be made), and a read-only file system
// (a tmpfs mounted read-only; skipped where this process may not mount).
TEST(Train, AnUnwritableOutputDirFailsAtStartUp) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 10);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("a-file/runs"), 1);
  c.eval.enabled = false;
  test::write_bytes(tmp.file("a-file"), "not a folder");
  std::string msg = test::error_of([&] { gps::train(c, "test"); });
  EXPECT_NE(msg.find("train.out_dir: cannot create " + tmp.file("a-file/runs")), std::string::npos) << msg;

  std::filesystem::create_directories(tmp.file("ro"));
  const std::string mount = "mount -t tmpfs -o ro,size=1m tmpfs " + tmp.file("ro") + " 2>/dev/null";
  if (std::system(mount.c_str()) != 0) GTEST_SKIP() << "cannot mount a read-only tmpfs here";
  c.train.out_dir = tmp.file("ro/runs");
  msg = test::error_of([&] { gps::train(c, "test"); });
  std::system(("umount " + tmp.file("ro")).c_str());
  EXPECT_NE(msg.find("train.out_dir: cannot create " + tmp.file("ro/runs")), std::string::npos) << msg;
  EXPECT_NE(msg.find("Read-only file system"), std::string::npos) << msg;
}

// A run that cannot evaluate fails in its setup, before the first step,
// naming the missing split and the key that turns evaluation off; nothing
// is trained and no checkpoint is written. (Before, it trained to the end,
// wrote its checkpoint and failed only then.)
TEST(Train, ARunThatCannotEvaluateFailsBeforeItsFirstStep) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  std::filesystem::remove(tmp.file("fm/t10k-images-idx3-ubyte.gz"));
  std::filesystem::remove(tmp.file("fm/t10k-labels-idx1-ubyte.gz"));
  Config c = tiny_config(tmp);
  c.train.name = "no-test";
  const std::string err = test::error_of([&] { train(c, "test"); });
  EXPECT_NE(err.find("eval.enabled=true evaluates on the test split, which cannot be loaded"), std::string::npos) << err;
  EXPECT_NE(err.find("t10k-images-idx3-ubyte"), std::string::npos) << err;  // the missing file
  EXPECT_NE(err.find("set eval.enabled=false"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("runs/no-test/checkpoint.pt")));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("runs/no-test/metrics.jsonl")));
  // The kNN curve needs the test split as well.
  c.eval.enabled = false;
  c.eval.knn_every = 1;
  EXPECT_NE(test::error_of([&] { train(c, "test"); }).find("eval.knn_every=1 evaluates on the test split"),
            std::string::npos);
  // Without evaluation the same data trains.
  c.eval.knn_every = 0;
  c.train.name = "no-eval";
  EXPECT_EQ(train(c, "test").steps, 6);
}

// gps compare --seeds N: one compare per seed, then mean +- std (sample std)
// of each accuracy and of the gain, in <name>-seeds.json and .md.
TEST(Compare, SeedsReportMeanAndSampleStd) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.train.name = "cmp";
  c.train.seed = 5;
  c.neighbors.rules.k = 3;
  c.eval.linear_epochs = 2;
  const std::string md = run_compare_seeds(c, 2, "test");
  EXPECT_NE(md.find("mean +- std"), std::string::npos) << md;
  std::ifstream f(tmp.file("runs/cmp-seeds.json"));
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["seeds"], 2);
  for (const char* key : {"plain_linear", "plain_knn", "gps_linear", "gps_knn", "gain_linear", "gain_knn"}) {
    const auto v = j[key]["per_seed"].get<std::vector<double>>();
    ASSERT_EQ(v.size(), 2u) << key;
    EXPECT_NEAR(j[key]["mean"].get<double>(), (v[0] + v[1]) / 2, 1e-9) << key;
    EXPECT_NEAR(j[key]["std"].get<double>(), std::abs(v[0] - v[1]) / std::sqrt(2.0), 1e-9) << key;
  }
  const auto gain = j["gain_linear"]["per_seed"].get<std::vector<double>>();
  const auto plain = j["plain_linear"]["per_seed"].get<std::vector<double>>();
  const auto gps = j["gps_linear"]["per_seed"].get<std::vector<double>>();
  EXPECT_NEAR(gain[1], gps[1] - plain[1], 1e-9);
  for (const char* run : {"cmp-s5-plain", "cmp-s5-gps", "cmp-s6-plain", "cmp-s6-gps"})
    EXPECT_TRUE(std::filesystem::exists(tmp.file(std::string("runs/") + run + "/summary.json"))) << run;
}
