// The gps executable on bad input: a clear message and a non-zero exit, never a crash.
#include "test_util.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <sys/wait.h>

namespace {

using gps::test::run_gps;
using Result = gps::test::GpsRun;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override { gps::test::write_tiny_mnist(tmp.file("fm"), 60, 20); }
  std::string base() const {
    return "train data.root=" + tmp.file("fm") + " train.out_dir=" + tmp.file("runs") +
           " model.width=2 method.proj_hidden_dim=8 method.proj_output_dim=4 optim.batch_size=10 optim.epochs=1 "
           "optim.warmup_epochs=0 eval.linear_epochs=1 train.progress=false";
  }
  gps::test::TempDir tmp;
};

void expect_failure(const Result& r, const std::string& fragment) {
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_LT(r.code, 128) << "crashed: " << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
}

}  // namespace

TEST_F(Cli, HelpListsConfigKeysWithDefaults) {
  auto r = run_gps("train --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("neighbors.k"), std::string::npos);
  EXPECT_NE(r.output.find("[0.4]"), std::string::npos) << "default lr shown";
}

TEST_F(Cli, TrainsOnGoodInput) {
  auto r = run_gps(base() + " gps=true neighbors.k=3");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("linear probe"), std::string::npos) << r.output;
}

TEST_F(Cli, MissingDataPath) { expect_failure(run_gps(base() + " data.root=/no/such/dir"), "/no/such/dir"); }

TEST_F(Cli, CorruptDataFile) {
  gps::test::write_bytes(tmp.file("fm/train-images-idx3-ubyte.gz"), "this is not gzip nor idx");
  expect_failure(run_gps(base()), "train-images-idx3-ubyte.gz");
}

TEST_F(Cli, UnknownMethod) { expect_failure(run_gps(base() + " method.name=moco"), "method.name"); }

TEST_F(Cli, UnknownKey) { expect_failure(run_gps(base() + " optim.learningrate=1"), "optim.learningrate"); }

TEST_F(Cli, KAtLeastN) { expect_failure(run_gps(base() + " neighbors.k=60 neighbors.exclude_self=true"), "neighbors.k"); }

// A batch larger than the training set (a folder of 80 images with the
// recipes' 256) becomes the training set, with a note; config.yaml records it.
TEST_F(Cli, BatchLargerThanDatasetIsCappedWithANote) {
  const auto r = run_gps(base() + " optim.batch_size=100 train.name=capped");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("optim.batch_size = 100 is larger than the training set (60 images): this run uses "
                          "optim.batch_size = 60"),
            std::string::npos)
      << r.output;
  std::ifstream f(tmp.file("runs/capped/config.yaml"));
  const std::string yaml((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(yaml.find("batch_size: 60"), std::string::npos) << yaml;
}

// Without evaluation there are no test images: the online probe reports the
// training views only (no "-1.00%").
TEST_F(Cli, NoEvaluationPrintsNoTestFigure) {
  const auto r = run_gps(base() + " eval.enabled=false");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("online probe: "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("-1.00"), std::string::npos) << r.output;
}

TEST_F(Cli, MissingConfigFile) { expect_failure(run_gps("train -c /no/such.yaml"), "/no/such.yaml"); }

TEST_F(Cli, SigintStopsCleanlyWithACheckpoint) {
  const std::string cmd = "( " + std::string(GPS_BINARY_DIR) + "/gps " + base() +
                          " optim.epochs=5000 train.name=sig > /dev/null 2>&1 & pid=$!; sleep 3; kill -INT $pid; "
                          "wait $pid; echo rc=$? )";
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 256> buf{};
  std::string out;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  pclose(p);
  EXPECT_NE(out.find("rc=130"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(tmp.file("runs/sig/checkpoint.pt")));
  EXPECT_TRUE(std::filesystem::exists(tmp.file("runs/sig/summary.json")));
}

TEST_F(Cli, PriorReportWritesTablesAndPictureForALearnedPrior) {
  const std::string data = " data.root=" + tmp.file("fm") + " train.out_dir=" + tmp.file("runs") +
                           " eval.linear_epochs=2 prior.kind=vae prior.latent_dim=8 prior.epochs=2 prior.input_size=16";
  auto r = run_gps("prior-report" + data + " --ks 1,4 --rows 3 --neighbors 4 -o " + tmp.file("report"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("k=1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("prior embeddings: linear probe"), std::string::npos) << r.output;
  for (const char* f : {"report.json", "report.md", "neighbours.png"})
    EXPECT_TRUE(std::filesystem::exists(tmp.path / "report" / f)) << f;
  // The test split embeds after the model was fitted on train (reused from the cache).
  r = run_gps("embed" + data + " --split test -o " + tmp.file("test.npy"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("[20, 8]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("model reused"), std::string::npos) << r.output;
  // GPS training with it.
  r = run_gps(base() + " gps=true neighbors.k=3 prior.kind=vae prior.latent_dim=8 prior.epochs=2 prior.input_size=16");
  EXPECT_EQ(r.code, 0) << r.output;
  expect_failure(run_gps("prior-report" + data + " --ks 60"), "must be in [1, 59]");
  expect_failure(run_gps("prior-report" + data + " prior.kind=onnx"), "needs prior.path (an .onnx file)");
}

TEST_F(Cli, PriorReportRejectsABadKList) {
  expect_failure(run_gps("prior-report data.root=" + tmp.file("fm") + " --ks 1,x"), "--ks");
}

// `gps augment-grid` and `gps batch` resolve the augmentation preset as
// training does (gps::augment_for): `strong` (each method's StrongAug) and
// every shipped config, on 28-px images in place of each config's data.
TEST_F(Cli, AugmentGridAndBatchResolveThePresetOfEveryConfig) {
  gps::test::write_tiny_mnist(tmp.file("fm28"), 40, 20, /*hw=*/28);
  const std::string data = " data.name=fashion-mnist data.root=" + tmp.file("fm28") +
                           " data.subset=0 data.test_subset=0 data.image_size=0 data.train_split=train"
                           " data.test_split=test optim.batch_size=8 gps=false"
                           " train.out_dir=" + tmp.file("runs");
  std::vector<std::string> configs;
  for (const auto& e : std::filesystem::directory_iterator(std::string(GPS_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream f(e.path());
    const std::string text((std::istreambuf_iterator<char>(f)), {});
    if (text.find("\nexperiment:") == std::string::npos && text.rfind("experiment:", 0) != 0)  // grids run cells
      configs.push_back(e.path().string());
  }
  ASSERT_GE(configs.size(), 10u);
  std::vector<std::string> runs = {"-c " + configs.front() + " augment.preset=strong",
                                   "-c " + configs.front() + " augment.preset=strong method.name=byol"};
  for (const auto& c : configs) runs.push_back("-c " + c);
  for (const auto& r : runs) {
    const auto grid = run_gps("augment-grid " + r + data + " --images 2 --views 2 -o " + tmp.file("grid.png"));
    EXPECT_EQ(grid.code, 0) << r << "\n" << grid.output;
    const auto batch = run_gps("batch " + r + data + " -o " + tmp.file("batch.npz"));
    EXPECT_EQ(batch.code, 0) << r << "\n" << batch.output;
  }
}

// `--check` and `--print-config` resolve and validate every shipped config
// (recipes, presets, auto devices) and write nothing; a bad key fails as
// training would.
TEST_F(Cli, CheckAndPrintConfigOnEveryConfigWriteNothing) {
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(GPS_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream f(e.path());
    const std::string text((std::istreambuf_iterator<char>(f)), {});
    if (text.find("\nexperiment:") != std::string::npos || text.rfind("experiment:", 0) == 0) continue;
    const std::string out = " train.out_dir=" + tmp.file("never");
    const auto check = run_gps("train --check -c " + e.path().string() + out);
    EXPECT_EQ(check.code, 0) << e.path() << "\n" << check.output;
    EXPECT_NE(check.output.find("config OK"), std::string::npos) << check.output;
    const auto print = run_gps("compare --print-config -c " + e.path().string() + out, /*with_stderr=*/false);
    EXPECT_EQ(print.code, 0) << e.path() << "\n" << print.output;
    EXPECT_NE(print.output.find("preset:"), std::string::npos) << print.output;
    EXPECT_EQ(print.output.find("preset: strong\n"), std::string::npos) << "strong is resolved to the method's preset";
    ++checked;
  }
  EXPECT_GE(checked, 10);
  EXPECT_FALSE(std::filesystem::exists(tmp.file("never"))) << "--check wrote a run directory";
  const auto bad = run_gps("train --check -c " + std::string(GPS_SOURCE_DIR) + "/configs/fmnist-simclr-weak.yaml optim.epochz=3");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("did you mean 'optim.epochs'"), std::string::npos) << bad.output;
}

// Resuming a finished run trains nothing; overrides that would change
// training are named as ignored, not dropped without a word (issue 47).
TEST_F(Cli, ResumingAFinishedRunNamesTheIgnoredOverrides) {
  ASSERT_EQ(run_gps(base() + " eval.enabled=false train.name=done").code, 0);
  const auto r = run_gps("train --resume " + tmp.file("runs/done") + " optim.lr=0.123");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("already finished"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ignored: optim.lr"), std::string::npos) << r.output;
}
