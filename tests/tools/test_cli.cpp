// The gps executable on bad input: a clear message and a non-zero exit, never a crash.
#include "test_util.h"

#include <gtest/gtest.h>

#include <array>
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

TEST_F(Cli, BatchLargerThanDataset) { expect_failure(run_gps(base() + " optim.batch_size=100"), "optim.batch_size"); }

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
