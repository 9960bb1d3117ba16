// RankMe against its definition computed another way (eigenvalues of the
// Gram matrix), its value on embeddings of known rank, its invariances, and
// the label-free curve on unlabeled data; and the online probe on held-out images.
#include "gps/core/check.h"
#include "gps/eval/periodic_knn.h"
#include "gps/eval/rankme.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gps;
using ::testing::HasSubstr;

namespace {

// RankMe from the eigenvalues of z^T z (sigma_k = sqrt(lambda_k)), float64.
double rankme_reference(const torch::Tensor& z, double eps) {
  const auto x = z.to(torch::kFloat64);
  auto lambda = torch::linalg_eigvalsh(x.t().mm(x)).clamp_min(0);
  if (x.size(0) < x.size(1)) lambda = std::get<0>(lambda.sort(0, true)).slice(0, 0, x.size(0));
  const auto sigma = lambda.sqrt();
  const auto p = sigma / sigma.sum() + eps;
  return std::exp(-(p * p.log()).sum().item<double>());
}

// The metrics.jsonl records of `event`.
std::vector<nlohmann::json> records(const std::string& run_dir, const std::string& event) {
  std::ifstream m(run_dir + "/metrics.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(m, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.value("event", "") == event) out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

TEST(RankMe, MatchesTheDefinitionComputedFromTheGramMatrix) {
  torch::manual_seed(1);
  for (const auto& shape : std::vector<std::pair<int64_t, int64_t>>{{200, 16}, {50, 64}, {300, 3}}) {
    const auto z = torch::randn({shape.first, shape.second}) * torch::rand({1, shape.second});
    EXPECT_NEAR(rankme(z), rankme_reference(z, 1e-7), 1e-6 * rankme(z)) << shape.first << "x" << shape.second;
  }
}

TEST(RankMe, KnownRanksAndInvariances) {
  torch::manual_seed(2);
  // k orthonormal directions with equal weight: effective rank k.
  const auto q = std::get<0>(torch::linalg_qr(torch::randn({64, 64}, torch::kFloat64)));
  for (int64_t k : {1, 5, 32}) EXPECT_NEAR(rankme(q.slice(1, 0, k)), double(k), 1e-3 * k) << k;
  // Collapse to one vector: 1; all zero: 1.
  EXPECT_NEAR(rankme(torch::ones({100, 8}) * torch::randn({1, 8})), 1.0, 1e-4);
  EXPECT_EQ(rankme(torch::zeros({10, 4})), 1.0);
  // Scale and row order do not matter; it never exceeds min(N, D).
  const auto z = torch::randn({80, 12}, torch::kFloat64);
  EXPECT_NEAR(rankme(z * 37.0), rankme(z), 1e-9);
  EXPECT_NEAR(rankme(z.flip(0)), rankme(z), 1e-9);
  EXPECT_LE(rankme(z), 12.0 + 1e-6);
  EXPECT_THROW(rankme(torch::randn({5})), gps::Error);
  EXPECT_THAT(test::error_of([] { rankme(torch::full({3, 3}, NAN)); }), HasSubstr("NaN"));
}

// A tiny 2-epoch run with the curve at every epoch (eval.knn_every = 1).
Config curve_config(const test::TempDir& tmp) {
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
  c.eval.knn_every = 1;
  return c;
}

// eval.knn_every on a run: each curve record and summary.json carry RankMe.
TEST(RankMe, IsLoggedWithTheCurveAndInTheSummary) {
  test::TempDir tmp;
  Config c = curve_config(tmp);
  const auto r = train(c, "test");
  const auto curve = records(r.run_dir, "knn");
  EXPECT_EQ(curve.size(), 2u);
  for (const auto& j : curve) {
    EXPECT_GE(j["rankme"].get<double>(), 1.0);
    EXPECT_LE(j["rankme"].get<double>(), 16.0 + 1e-6);  // width 2: 16 backbone features
  }
  std::ifstream s(r.run_dir + "/summary.json");
  const auto summary = nlohmann::json::parse(s);
  EXPECT_GE(summary["eval"]["rankme"].get<double>(), 1.0);
}

// The online probe is measured on held-out images: at every point of the
// curve and at the end of training, on the test split. The last epoch's
// point and the end of training see the same weights, so they agree.
TEST(OnlineProbe, IsMeasuredOnTheHeldOutImages) {
  test::TempDir tmp;
  Config c = curve_config(tmp);
  const auto r = train(c, "test");
  const auto curve = records(r.run_dir, "knn");
  ASSERT_EQ(curve.size(), 2u);
  for (const auto& j : curve) {
    ASSERT_TRUE(j.contains("online_probe_test_top1")) << j.dump();
    EXPECT_GE(j["online_probe_test_top1"].get<double>(), 0.0);
    EXPECT_LE(j["online_probe_test_top1"].get<double>(), 100.0);
  }
  EXPECT_DOUBLE_EQ(r.online_probe_test_top1, curve.back()["online_probe_test_top1"].get<double>());
  EXPECT_GE(r.online_probe_train_top1, 0.0);  // the training views' figure keeps its own name
  std::ifstream s(r.run_dir + "/summary.json");
  const auto summary = nlohmann::json::parse(s);
  EXPECT_DOUBLE_EQ(summary["online_probe_test_top1"].get<double>(), r.online_probe_test_top1);
  EXPECT_FALSE(summary.contains("online_probe_top1"));
  // Without the probe, neither figure.
  c.train.online_probe = false;
  c.train.name = "no-probe";
  const auto n = train(c, "test");
  EXPECT_EQ(n.online_probe_test_top1, -1);
  EXPECT_FALSE(records(n.run_dir, "knn").front().contains("online_probe_test_top1"));
}

// Unlabeled data (a flat folder of images): eval.knn_every logs RankMe
// alone, so collapse or progress shows without labels.
TEST(RankMe, TheCurveOnUnlabeledDataIsRankMeAlone) {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.file("imgs"));
  cv::RNG rng(3);
  for (int i = 0; i < 40; ++i) {
    cv::Mat img(8, 8, CV_8UC3);
    rng.fill(img, cv::RNG::UNIFORM, 0, 256);
    ASSERT_TRUE(cv::imwrite(tmp.file("imgs/" + std::to_string(i) + ".png"), img));
  }
  Config c = test::tiny_train_config(tmp.file("imgs"), tmp.file("runs"), 2);
  c.data.name = "folder";
  c.data.image_size = 8;
  c.eval.enabled = false;
  c.eval.knn_every = 1;
  const auto r = train(c, "test");
  EXPECT_TRUE(records(r.run_dir, "knn").empty());
  const auto curve = records(r.run_dir, "rankme");
  EXPECT_EQ(curve.size(), 2u);
  for (const auto& j : curve) {
    EXPECT_FALSE(j.contains("knn_top1"));
    EXPECT_GE(j["rankme"].get<double>(), 1.0);
  }
}
