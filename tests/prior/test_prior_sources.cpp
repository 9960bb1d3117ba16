// The priors a user trains or brings as ONNX, and the prior report:
// ONNX vs TorchScript vs Python on committed fixtures
// (scripts/make_prior_fixtures.py), the autoencoder / VAE prior (loss
// formulas, gradients, training, caching, RNG isolation), purity and the
// neighbour picture.
#include "test_util.h"

#include "gps/data/registry.h"
#include "gps/eval/prior_report.h"
#include "gps/io/npy.h"
#include "gps/prior/autoencoder.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/pca.h"
#include "gps/prior/prior.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace gps;
using gps::test::error_of;

namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
  return (fs::path(GPS_SOURCE_DIR) / "tests" / "fixtures" / "priors" / name).string();
}

// The input scripts/make_prior_fixtures.py used: (n*37 + h*5 + w*3) % 256.
Dataset fixture_dataset() {
  Dataset d;
  d.name = "fixture/train";
  d.split = "train";
  auto images = torch::empty({4, 1, 16, 16}, torch::kUInt8);
  auto a = images.accessor<uint8_t, 4>();
  for (int n = 0; n < 4; ++n)
    for (int h = 0; h < 16; ++h)
      for (int w = 0; w < 16; ++w) a[n][0][h][w] = uint8_t((n * 37 + h * 5 + w * 3) % 256);
  d.set_images(images);
  d.mean = {0.3f};
  d.std = {0.2f};
  d.source_size = 4;
  return d;
}

PriorConfig model_prior(const std::string& kind, const std::string& path) {
  PriorConfig pc;
  pc.kind = kind;
  pc.path = path;
  return pc;
}

// Images of 3 classes, each a noisy copy of a class pattern (learnable by an autoencoder).
Dataset clustered_dataset(int64_t n, int64_t hw, uint64_t seed, const std::string& split = "train") {
  torch::manual_seed(int64_t(seed));
  Dataset d;
  d.name = "clusters/" + split;
  d.split = split;
  d.labels = torch::arange(n, torch::kInt64).remainder(3);
  d.num_classes = 3;
  auto grid = torch::arange(hw, torch::kFloat32);
  auto yy = grid.view({hw, 1}).expand({hw, hw}), xx = grid.view({1, hw}).expand({hw, hw});
  std::vector<torch::Tensor> templates = {(xx < hw / 2).to(torch::kFloat32), (yy < hw / 2).to(torch::kFloat32),
                                          ((xx + yy).remainder(4) < 2).to(torch::kFloat32)};
  auto imgs = torch::empty({n, 1, hw, hw});
  for (int64_t i = 0; i < n; ++i)
    imgs[i][0] = templates[size_t(i % 3)] * 180 + 40 + torch::randn({hw, hw}) * 25;
  d.set_images(imgs.clamp(0, 255).round().to(torch::kUInt8));
  compute_channel_stats(d.all_images(), d.mean, d.std);
  d.source_size = n;
  return d;
}

}  // namespace

TEST(OnnxPrior, MatchesPythonAndTheSameModelInTorchScript) {
  const Dataset d = fixture_dataset();
  const auto expected = load_npy(fixture("tiny_prior_expected.npy"));
  auto onnx = make_prior(model_prior("onnx", fixture("tiny_prior.onnx")));
  auto ts = make_prior(model_prior("torchscript", fixture("tiny_prior.pt")));
  const auto e_onnx = onnx->embed(d);
  const auto e_ts = ts->embed(d);
  ASSERT_EQ(e_onnx.sizes(), expected.sizes());
  // Sidecar normalisation (mean 0.5, std 0.25), not the dataset's (0.3, 0.2).
  EXPECT_TRUE(torch::allclose(e_onnx, expected, 1e-4, 1e-5)) << (e_onnx - expected).abs().max();
  EXPECT_TRUE(torch::allclose(e_ts, expected, 1e-4, 1e-5)) << (e_ts - expected).abs().max();
  // Batches of 3 + 1: a dynamic batch axis, same rows.
  PriorConfig small = model_prior("onnx", fixture("tiny_prior.onnx"));
  small.batch_size = 3;
  EXPECT_TRUE(torch::allclose(make_prior(small)->embed(d), e_onnx, 1e-5, 1e-6));
  EXPECT_NE(onnx->describe().find("onnx("), std::string::npos);
  // Explicit settings win over the sidecar: another normalisation, other features.
  PriorConfig plain = model_prior("onnx", fixture("tiny_prior.onnx"));
  plain.normalize = "none";
  EXPECT_FALSE(torch::allclose(make_prior(plain)->embed(d), e_onnx, 1e-3, 1e-3));
}

TEST(OnnxPrior, RejectsMissingCorruptAndMismatchedModelsNamingTheFile) {
  test::TempDir tmp;
  EXPECT_NE(error_of([&] { make_prior(model_prior("onnx", tmp.file("none.onnx"))); }).find("none.onnx does not exist"),
            std::string::npos);
  // A truncated model file.
  std::ifstream in(fixture("tiny_prior.onnx"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  test::write_bytes(tmp.file("cut.onnx"), bytes.substr(0, bytes.size() / 2));
  const std::string cut = error_of([&] { make_prior(model_prior("onnx", tmp.file("cut.onnx")))->embed(fixture_dataset()); });
  EXPECT_NE(cut.find("cut.onnx"), std::string::npos) << cut;
  // 3-channel images into a 1-channel model: the sidecar's in_channels = 1.
  Dataset rgb = fixture_dataset();
  rgb.set_images(rgb.all_images().expand({-1, 3, -1, -1}).contiguous());
  rgb.mean = {0.3f, 0.3f, 0.3f};
  rgb.std = {0.2f, 0.2f, 0.2f};
  const std::string ch = error_of([&] { make_prior(model_prior("onnx", fixture("tiny_prior.onnx")))->embed(rgb); });
  EXPECT_NE(ch.find("tiny_prior.onnx"), std::string::npos) << ch;
  EXPECT_NE(ch.find("cannot be made from 3-channel"), std::string::npos) << ch;
  // A sidecar whose output_dim contradicts the model.
  fs::copy_file(fixture("tiny_prior.onnx"), tmp.file("m.onnx"));
  test::write_bytes(tmp.file("m.onnx.json"), R"({"format": "gps-prior/1", "input_size": 16, "in_channels": 1,
      "mean": [0.5], "std": [0.25], "output_dim": 7})");
  const std::string od = error_of([&] { make_prior(model_prior("onnx", tmp.file("m.onnx")))->embed(fixture_dataset()); });
  EXPECT_NE(od.find("says output_dim 7"), std::string::npos) << od;
  // Config: onnx needs a path; sidecar only for model priors.
  Config c;
  c.prior.kind = "onnx";
  EXPECT_NE(error_of([&] { c.validate(); }).find("needs prior.path (an .onnx file)"), std::string::npos);
}

TEST(Autoencoder, LossTermsMatchClosedFormsAndTheirGradients) {
  // KL(N(mu, s^2) || N(0, 1)) per dimension = 0.5 (mu^2 + s^2 - 1 - log s^2).
  auto mu = torch::tensor({{0.0, 1.0, -2.0}}, torch::kFloat64);
  auto logvar = torch::tensor({{0.0, 0.0, std::log(4.0)}}, torch::kFloat64);
  const double want = 0.0 + 0.5 + 0.5 * (4.0 + 4.0 - 1.0 - std::log(4.0));
  EXPECT_NEAR(gaussian_kl(mu, logvar).item<double>(), want, 1e-12);
  auto x = torch::tensor({{1.0, 2.0}, {0.0, 0.0}}, torch::kFloat64);
  auto xh = torch::tensor({{0.0, 4.0}, {3.0, 0.0}}, torch::kFloat64);
  auto r = reconstruction_loss(x, xh);
  EXPECT_NEAR(r[0].item<double>(), 0.5 * (1 + 4), 1e-12);
  EXPECT_NEAR(r[1].item<double>(), 0.5 * 9, 1e-12);
  // Analytic gradients of the KL against central differences.
  auto m = torch::randn({2, 5}, torch::kFloat64).requires_grad_();
  auto lv = torch::randn({2, 5}, torch::kFloat64).requires_grad_();
  gaussian_kl(m, lv).sum().backward();
  const double h = 1e-6;
  for (auto* p : {&m, &lv}) {
    auto g = p->grad().clone();
    for (int64_t i = 0; i < 10; ++i) {
      auto base = p->detach().clone();
      auto plus = base.clone(), minus = base.clone();
      plus.view(-1)[i] += h;
      minus.view(-1)[i] -= h;
      const double fp = (p == &m ? gaussian_kl(plus, lv.detach()) : gaussian_kl(m.detach(), plus)).sum().item<double>();
      const double fm = (p == &m ? gaussian_kl(minus, lv.detach()) : gaussian_kl(m.detach(), minus)).sum().item<double>();
      EXPECT_NEAR(g.view(-1)[i].item<double>(), (fp - fm) / (2 * h), 1e-6);
    }
  }
}

TEST(Autoencoder, TrainsReusesItsModelAndLeavesTheCallersRngAlone) {
  test::TempDir tmp;
  const Dataset train = clustered_dataset(300, 16, 1);
  const Dataset test = clustered_dataset(90, 16, 2, "test");
  for (const char* kind : {"autoencoder", "vae"}) {
    PriorConfig pc;
    pc.kind = kind;
    pc.latent_dim = 8;
    pc.input_size = 16;
    pc.epochs = 15;
    pc.batch_size = 64;
    pc.lr = 3e-3;
    torch::manual_seed(42);
    const auto before = torch::rand({4});
    torch::manual_seed(42);
    auto prior = make_prior(pc, tmp.file(std::string("cache-") + kind));
    auto* ae = dynamic_cast<AutoencoderPrior*>(prior.get());
    ASSERT_NE(ae, nullptr);
    const std::string need = error_of([&] { prior->embed(test); });
    EXPECT_NE(need.find("trained on the train split"), std::string::npos) << need;
    prior->fit(train);
    // Training drew from its own seed and restored the global generator.
    EXPECT_TRUE(torch::equal(torch::rand({4}), before)) << kind;
    const auto e = prior->embed(train);
    ASSERT_EQ(e.sizes(), (torch::IntArrayRef{300, 8}));
    EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
    // The code separates the classes: nearest-neighbour purity well above chance (33 %).
    const auto purity = knn_label_purity(e, train.labels, {1, 5}, SearchOptions{});
    EXPECT_GT(purity[0], 90.0) << kind;
    EXPECT_GT(purity[1], 90.0) << kind;
    EXPECT_EQ(prior->embed(test).size(0), 90);
    // A second prior with the same settings and data loads the saved model.
    auto again = make_prior(pc, tmp.file(std::string("cache-") + kind));
    again->fit(train);
    EXPECT_TRUE(std::isnan(dynamic_cast<AutoencoderPrior*>(again.get())->final_loss()));
    EXPECT_TRUE(torch::allclose(again->embed(train), e, 1e-5, 1e-6)) << kind;
    // Other settings train anew.
    pc.latent_dim = 4;
    auto other = make_prior(pc, tmp.file(std::string("cache-") + kind));
    other->fit(train);
    EXPECT_EQ(other->embed(train).size(1), 4);
    EXPECT_FALSE(std::isnan(dynamic_cast<AutoencoderPrior*>(other.get())->final_loss()));
  }
}

TEST(Autoencoder, ConfigRejectsContradictoryOptions) {
  Config c;
  c.prior.kind = "vae";
  c.prior.path = "model.pt";
  EXPECT_NE(error_of([&] { c.validate(); }).find("prior.path does not apply to prior.kind=vae"), std::string::npos);
  c.prior.path.clear();
  c.prior.input_size = 20;
  EXPECT_NE(error_of([&] { c.validate(); }).find("multiple of 8"), std::string::npos);
  c.prior.input_size = 0;
  c.prior.kind = "autoencoder";
  c.prior.beta = 2;
  EXPECT_NE(error_of([&] { c.validate(); }).find("prior.beta only applies to prior.kind=vae"), std::string::npos);
  c.prior.beta = 1;
  EXPECT_NO_THROW(c.validate());
}

TEST(PriorReport, PurityPictureAndCandidateSetsOnHandMadeEmbeddings) {
  // Points on a line: 0,1,2 | 10,11,12 | 20,21; labels 0,0,0,1,1,1,0,1.
  auto emb = torch::tensor({0.f, 1.f, 2.f, 10.f, 11.f, 12.f, 20.f, 21.f}).view({8, 1});
  auto labels = torch::tensor({0, 0, 0, 1, 1, 1, 0, 1}, torch::kInt64);
  const auto p = knn_label_purity(emb, labels, {1, 2}, SearchOptions{});
  // k = 1 nearest other: 0->1 ok, 1->0|2 ok, 2->1 ok, 3->4 ok, 4->3|5 ok, 5->4 ok, 6->7 no, 7->6 no: 6/8.
  EXPECT_NEAR(p[0], 75.0, 1e-9);
  // k = 2: rows 0..5 all same (12 hits); row 6: {7, 5} -> 0; row 7: {6, 5} -> 5 same: 1. 13 / 16.
  EXPECT_NEAR(p[1], 100.0 * 13 / 16, 1e-9);
  EXPECT_NE(error_of([&] { knn_label_purity(emb, labels, {8}, SearchOptions{}); }).find("must be in [1, 7]"),
            std::string::npos);

  test::TempDir tmp;
  const Dataset train = clustered_dataset(60, 8, 3);
  Config cfg;
  cfg.neighbors.rules.k = 4;
  cfg.neighbors.rules.tau = 1e9;  // every candidate inside the ball
  PriorConfig pc;  // pixels
  auto prior = make_prior(pc);
  PriorReportOptions opts;
  opts.ks = {1, 4};
  opts.grid_rows = 3;
  opts.grid_neighbors = 5;
  opts.evaluate = false;
  const PriorReport r = make_prior_report(*prior, train, nullptr, cfg.neighbors, cfg.eval, tmp.file("cache"), opts);
  EXPECT_EQ(r.images, 60);
  EXPECT_EQ(r.dim, 64);
  ASSERT_EQ(r.purity.size(), 2u);
  EXPECT_EQ(r.purity, knn_label_purity(prior->embed(train), train.labels, {1, 4}, SearchOptions{}));
  EXPECT_EQ(r.table_k, 4);
  EXPECT_EQ(r.candidates_min, 4);
  EXPECT_EQ(r.candidates_histogram.at(4), 60);
  EXPECT_GE(r.candidate_purity, 0.0);
  // 3 rows of 1 + 5 cells, 8 px images upscaled x7 to 56 px, 3 px frames, 4 px gaps.
  EXPECT_EQ(r.grid.sizes(), (torch::IntArrayRef{3, 3 * (56 + 6 + 4) + 4, 6 * (56 + 6 + 4) + 4}));
  write_prior_report(tmp.file("report"), r);
  for (const char* f : {"report.json", "report.md", "neighbours.png"})
    EXPECT_TRUE(fs::exists(tmp.path / "report" / f)) << f;
  // Frames: the first neighbour cell of row 0 is green or red, the anchor blue.
  const auto anchor_px = r.grid.index({torch::indexing::Slice(), 4, 4});
  EXPECT_EQ(anchor_px[2].item<uint8_t>(), 220);
}
