#include "gps/core/check.h"
#include "gps/data/registry.h"
#include "gps/eval/retrieval.h"
#include "gps/io/npy.h"
#include "gps/methods/method.h"
#include "gps/models/features.h"
#include "gps/prior/embedding_cache.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/pca.h"
#include "gps/prior/pixel_prior.h"
#include "gps/train/checkpoint.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>

using namespace gps;
using gps::test::error_of;

namespace {

Dataset tiny_dataset(int64_t n, int64_t c = 1, int64_t hw = 4) {
  Dataset d;
  d.name = "tiny/train";
  d.split = "train";
  d.set_images(torch::randint(0, 256, {n, c, hw, hw}, torch::kUInt8));
  d.labels = torch::arange(n, torch::kInt64).remainder(3);
  d.num_classes = 3;
  d.mean = std::vector<float>(c, 0.5f);
  d.std = std::vector<float>(c, 0.25f);
  d.source_size = n;
  return d;
}

}  // namespace

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  test::TempDir tmp;
  for (auto t : {torch::randn({3, 4}), torch::randn({5}, torch::kFloat64), torch::arange(6, torch::kInt64).view({2, 3}),
                 torch::arange(6, torch::kInt32), torch::randint(0, 255, {2, 1, 3, 3}, torch::kUInt8),
                 torch::zeros({0, 4})}) {
    save_npy(tmp.file("a.npy"), t);
    auto back = load_npy(tmp.file("a.npy"));
    EXPECT_EQ(back.scalar_type(), t.scalar_type());
    EXPECT_TRUE(torch::equal(back, t));
  }
}

TEST(Npy, RejectsBadFilesNamingThem) {
  test::TempDir tmp;
  save_npy(tmp.file("ok.npy"), torch::randn({4, 2}));
  std::ifstream f(tmp.file("ok.npy"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  test::write_bytes(tmp.file("magic.npy"), "XXXXXX" + bytes.substr(6));
  test::write_bytes(tmp.file("cut.npy"), bytes.substr(0, bytes.size() - 4));
  test::write_bytes(tmp.file("long.npy"), bytes + "xx");
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  test::write_bytes(tmp.file("fortran.npy"), fortran);
  std::string f2 = bytes;
  f2.replace(f2.find("<f4"), 3, "<c8");
  test::write_bytes(tmp.file("complex.npy"), f2);
  EXPECT_NE(error_of([&] { load_npy(tmp.file("magic.npy")); }).find("magic.npy"), std::string::npos);
  EXPECT_NE(error_of([&] { load_npy(tmp.file("cut.npy")); }).find("truncated"), std::string::npos);
  EXPECT_NE(error_of([&] { load_npy(tmp.file("long.npy")); }).find("trailing"), std::string::npos);
  EXPECT_NE(error_of([&] { load_npy(tmp.file("fortran.npy")); }).find("Fortran"), std::string::npos);
  EXPECT_NE(error_of([&] { load_npy(tmp.file("complex.npy")); }).find("<c8"), std::string::npos);
  EXPECT_NE(error_of([&] { load_npy(tmp.file("missing.npy")); }).find("missing.npy"), std::string::npos);
}

TEST(NpyPrior, ChecksDtypeAndRowsAndFollowsSubsets) {
  test::TempDir tmp;
  auto d = tiny_dataset(30);
  auto e = torch::randn({30, 5});
  save_npy(tmp.file("e.npy"), e);
  save_npy(tmp.file("e64.npy"), e.to(torch::kFloat64));
  save_npy(tmp.file("short.npy"), torch::randn({29, 5}));
  EXPECT_TRUE(torch::equal(NpyPrior(tmp.file("e.npy"), "").embed(d), e));
  // A subset picks the rows of its images in the full split.
  auto sub = stratified_subset(d, 9, 0);
  EXPECT_TRUE(torch::equal(NpyPrior(tmp.file("e.npy"), "").embed(sub), e.index_select(0, sub.source_index)));
  EXPECT_NE(error_of([&] { NpyPrior(tmp.file("e64.npy"), "").embed(d); }).find("float32"), std::string::npos);
  auto msg = error_of([&] { NpyPrior(tmp.file("short.npy"), "").embed(d); });
  EXPECT_NE(msg.find("29 rows"), std::string::npos) << msg;
  d.split = "test";
  EXPECT_NE(error_of([&] { NpyPrior(tmp.file("e.npy"), "").embed(d); }).find("prior.test_path"), std::string::npos);
}

TEST(TorchScriptPrior, RunsAModelWrittenByTheTest) {
  test::TempDir tmp;
  // A linear "network" on flattened 3x6x6 input, saved as TorchScript from C++.
  torch::jit::Module m("TinyPrior");
  auto w = torch::randn({3 * 6 * 6, 4});
  m.register_parameter("w", w, false);
  m.define("def forward(self, x):\n    return x.flatten(1).mm(self.w)\n");
  m.save(tmp.file("prior.pt"));

  auto d = tiny_dataset(7, 1, 4);  // gray 4x4 -> replicated to 3 channels, resized to 6x6
  PriorConfig cfg;
  cfg.kind = "torchscript";
  cfg.path = tmp.file("prior.pt");
  cfg.in_channels = 3;
  cfg.input_size = 6;
  cfg.normalize = "none";
  auto got = TorchScriptPrior(cfg).embed(d);
  auto x = d.all_images().expand({-1, 3, -1, -1}).to(torch::kFloat32);
  x = torch::nn::functional::interpolate(
          x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{6, 6}).mode(torch::kBilinear).align_corners(false)) /
      255.0f;
  EXPECT_TRUE(torch::allclose(got, x.flatten(1).mm(w), 1e-4, 1e-4));
  // Wrong input size is reported with the option to change.
  cfg.input_size = 5;
  EXPECT_NE(error_of([&] { TorchScriptPrior(cfg).embed(d); }).find("prior.input_size"), std::string::npos);
  cfg.path = tmp.file("nope.pt");
  EXPECT_NE(error_of([&] { TorchScriptPrior c(cfg); }).find("nope.pt"), std::string::npos);
  test::write_bytes(tmp.file("junk.pt"), "not a model");
  cfg.path = tmp.file("junk.pt");
  EXPECT_NE(error_of([&] { TorchScriptPrior c(cfg); }).find("TorchScript"), std::string::npos);
}

namespace {

// A linear TorchScript "network" on flattened 3 x hw x hw input, saved from C++.
torch::Tensor write_linear_model(const std::string& path, int64_t hw, int64_t dim) {
  torch::jit::Module m("TinyPrior");
  auto w = torch::randn({3 * hw * hw, dim});
  m.register_parameter("w", w, false);
  m.define("def forward(self, x):\n    return x.flatten(1).mm(self.w)\n");
  m.save(path);
  return w;
}

// Counts embed() calls of the pixel prior.
struct CountingPrior : Prior {
  int* calls;
  explicit CountingPrior(int* c) : calls(c) {}
  torch::Tensor embed(const Dataset& d) const override {
    ++*calls;
    return PixelPrior().embed(d);
  }
  std::string describe() const override { return "counting"; }
};

}  // namespace

TEST(TorchScriptPrior, TakesUnsetSettingsFromTheSidecarAndExplicitOnesFromTheConfig) {
  test::TempDir tmp;
  const auto w = write_linear_model(tmp.file("m.pt"), 6, 4);
  test::write_bytes(tmp.file("m.pt.json"), R"({"format": "gps-prior/1", "source": "test", "input_size": 6,
    "in_channels": 3, "channel_order": "BGR", "mean": [0.1, 0.2, 0.3], "std": [0.5, 0.25, 2.0], "output_dim": 4})");
  auto d = tiny_dataset(5, 3, 4);
  PriorConfig cfg;
  cfg.kind = "torchscript";
  cfg.path = tmp.file("m.pt");
  TorchScriptPrior p(cfg);
  EXPECT_EQ(p.input().input_size, 6);
  EXPECT_EQ(p.input().normalize, "sidecar");
  EXPECT_TRUE(p.input().bgr);
  auto x = d.all_images().flip({1}).to(torch::kFloat32);
  x = torch::nn::functional::interpolate(
          x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{6, 6}).mode(torch::kBilinear).align_corners(false)) /
      255.0f;
  x = (x - torch::tensor({0.1f, 0.2f, 0.3f}).view({1, 3, 1, 1})) / torch::tensor({0.5f, 0.25f, 2.0f}).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(p.embed(d), x.flatten(1).mm(w), 1e-4, 1e-4));
  // Explicit values win; the fingerprint text changes with them.
  cfg.normalize = "none";
  TorchScriptPrior q(cfg);
  EXPECT_EQ(q.input().normalize, "none");
  EXPECT_NE(q.describe(), p.describe());
  // prior.sidecar=none ignores the file: size kept (4 px), which this model rejects, naming the option.
  cfg.sidecar = "none";
  TorchScriptPrior r(cfg);
  EXPECT_EQ(r.input().input_size, 0);
  EXPECT_EQ(r.input().normalize, "none");
  EXPECT_NE(error_of([&] { r.embed(d); }).find("prior.input_size"), std::string::npos);
  cfg.sidecar = tmp.file("absent.json");
  EXPECT_NE(error_of([&] { TorchScriptPrior c(cfg); }).find("prior.sidecar"), std::string::npos);
}

TEST(TorchScriptPrior, RejectsBadSidecarsNamingFileAndField) {
  test::TempDir tmp;
  write_linear_model(tmp.file("m.pt"), 6, 4);
  PriorConfig cfg;
  cfg.kind = "torchscript";
  cfg.path = tmp.file("m.pt");
  auto with = [&](const std::string& json) {
    test::write_bytes(tmp.file("m.pt.json"), json);
    return error_of([&] { TorchScriptPrior(cfg).embed(tiny_dataset(3, 1, 6)); });
  };
  const std::string ok_tail = R"("mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5])";
  auto msg = with("{not json");
  EXPECT_NE(msg.find("m.pt.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("JSON"), std::string::npos) << msg;
  msg = with(R"({"format": "other", "input_size": 6, )" + ok_tail + "}");
  EXPECT_NE(msg.find("gps-prior/1"), std::string::npos) << msg;
  msg = with(R"({"format": "gps-prior/1", )" + ok_tail + "}");
  EXPECT_NE(msg.find("input_size"), std::string::npos) << msg;
  msg = with(R"({"format": "gps-prior/1", "input_size": 6, "mean": [0.5], "std": [0.5, 0.5, 0.5]})");
  EXPECT_NE(msg.find("\"mean\""), std::string::npos) << msg;
  msg = with(R"({"format": "gps-prior/1", "input_size": 6, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0, 0.5]})");
  EXPECT_NE(msg.find("std"), std::string::npos) << msg;
  msg = with(R"({"format": "gps-prior/1", "input_size": 6, "channel_order": "GRB", )" + ok_tail + "}");
  EXPECT_NE(msg.find("channel_order"), std::string::npos) << msg;
  // A model that returns another size than the sidecar states.
  msg = with(R"({"format": "gps-prior/1", "input_size": 6, "output_dim": 7, )" + ok_tail + "}");
  EXPECT_NE(msg.find("output_dim 7"), std::string::npos) << msg;
  EXPECT_EQ(with(R"({"format": "gps-prior/1", "input_size": 6, "output_dim": 4, )" + ok_tail + "}"), "");
}

TEST(CachedPrior, EmbedsEachDatasetOnceAndNoticesChanges) {
  test::TempDir tmp;
  int calls = 0;
  CachedPrior p(std::make_unique<CountingPrior>(&calls), tmp.file("cache"));
  auto d = tiny_dataset(12, 1, 4);
  const auto a = p.embed(d);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(std::filesystem::exists(p.npy_path(d)));
  EXPECT_TRUE(torch::equal(p.embed(d), a));
  EXPECT_EQ(calls, 1);
  // Another dataset (other pixels) has another key and file.
  auto d2 = d;
  d2.set_images(d.all_images().clone());
  d2.all_images()[0][0][0][0] = uint8_t(d.all_images()[0][0][0][0].item<uint8_t>() ^ 1);
  EXPECT_NE(p.npy_path(d2), p.npy_path(d));
  p.embed(d2);
  EXPECT_EQ(calls, 2);
  // A damaged entry is recomputed, not trusted: garbage, a truncated file,
  // and one flipped byte in the data (a valid .npy, caught by the CRC-32).
  test::write_bytes(p.npy_path(d), "garbage");
  EXPECT_TRUE(torch::equal(p.embed(d), a));
  EXPECT_EQ(calls, 3);
  const std::string good = test::read_bytes(p.npy_path(d));
  test::write_bytes(p.npy_path(d), good.substr(0, good.size() - 5));
  EXPECT_TRUE(torch::equal(p.embed(d), a));
  EXPECT_EQ(calls, 4);
  std::string flipped = good;
  flipped[flipped.size() - 2] = char(flipped[flipped.size() - 2] ^ 0x10);
  test::write_bytes(p.npy_path(d), flipped);
  EXPECT_TRUE(torch::equal(p.embed(d), a));
  EXPECT_EQ(calls, 5);
  EXPECT_TRUE(torch::equal(p.embed(d), a));
  EXPECT_EQ(calls, 5) << "the recomputed entry is saved and reused";
  // make_prior caches torchscript priors, before PCA.
  write_linear_model(tmp.file("m.pt"), 4, 3);
  PriorConfig cfg;
  cfg.kind = "torchscript";
  cfg.path = tmp.file("m.pt");
  cfg.in_channels = 3;
  auto cached = make_prior(cfg, tmp.file("cache2"));
  EXPECT_NE(dynamic_cast<CachedPrior*>(cached.get()), nullptr);
  cached->embed(d);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.file("cache2")), {}), 2);  // .npy + .json
  cfg.cache = false;
  EXPECT_EQ(dynamic_cast<CachedPrior*>(make_prior(cfg, tmp.file("cache2")).get()), nullptr);
}

TEST(PcaPrior, FitsOnTrainThenProjectsTest) {
  auto train = tiny_dataset(40);
  auto test = train;
  test.split = "test";
  PcaPrior fresh(std::make_unique<PixelPrior>(), 3);
  EXPECT_NE(error_of([&] { fresh.embed(test); }).find("train"), std::string::npos);
  PcaPrior p(std::make_unique<PixelPrior>(), 3);
  auto a = p.embed(train);
  auto b = p.embed(test);  // same images, so the same projection
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{40, 3}));
  EXPECT_TRUE(torch::allclose(a, b));
}

TEST(RunPrior, BootstrapsFromAnEarlierRunsBackbone) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.train.name = "first";
  c.eval.enabled = false;
  auto first = train(c, "test");
  auto d = load_dataset(c.data, "train");
  Method m = make_method(c.method, c.model, 1);
  load_method_weights(first.run_dir + "/checkpoint.pt", *m);
  auto expected = extract_features(m->backbone(), d);
  PriorConfig pc;
  pc.kind = "run";
  pc.path = first.run_dir;
  auto prior = make_prior(pc);
  EXPECT_TRUE(torch::equal(prior->embed(d), expected));
  // A second run trains with the first run's features as its prior.
  c.prior = pc;
  c.train.name = "second";
  auto second = train(c, "test");
  EXPECT_NE(second.table.fingerprint.find("run("), std::string::npos);
  pc.path = tmp.file("runs/none");
  EXPECT_NE(error_of([&] { make_prior(pc); }).find("is not a gps run"), std::string::npos);
}

TEST(Retrieval, RecallAtKMatchesHandComputedCase) {
  // 1-D points: 0, 1, 10, 11, 20 with labels a, b, a, a, b (l2).
  auto x = torch::tensor({0.f, 1.f, 10.f, 11.f, 20.f}).unsqueeze(1);
  auto y = torch::tensor({0, 1, 0, 0, 1}, torch::kInt64);
  // Nearest others: 0->1 (miss), 1->0 (miss), 10->11 (hit), 11->10 (hit), 20->11 (miss).
  auto r = recall_at_k(x, y, {1, 2, 4}, "l2");
  EXPECT_DOUBLE_EQ(r[1], 2.0 / 5);
  // Second nearest: 0->10 (hit), 1->10 (miss), 20->10 (miss) -> 3/5 at k=2.
  EXPECT_DOUBLE_EQ(r[2], 3.0 / 5);
  // k=4 (all others): everyone but... 1 has 20 (hit at rank 4), 20 has 1 (rank 4): 5/5.
  EXPECT_DOUBLE_EQ(r[4], 1.0);
  auto pc = per_class_accuracy(torch::tensor({0, 0, 1, 1}, torch::kInt64), torch::tensor({0, 1, 1, 1}, torch::kInt64), 3);
  EXPECT_DOUBLE_EQ(pc[0], 1.0);
  EXPECT_DOUBLE_EQ(pc[1], 2.0 / 3);
  EXPECT_TRUE(std::isnan(pc[2]));
}
