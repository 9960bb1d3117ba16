#include "gps/methods/losses.h"
#include "gps/core/check.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gps;

namespace {

// Independent reference: explicit double loops over the 2N views.
double nt_xent_reference(const torch::Tensor& z1, const torch::Tensor& z2, double T) {
  auto z = torch::cat({z1, z2}, 0).to(torch::kFloat64);
  const int64_t M = z.size(0), N = z1.size(0);
  std::vector<std::vector<double>> v(M, std::vector<double>(z.size(1)));
  for (int64_t i = 0; i < M; ++i) {
    double norm = 0;
    for (int64_t d = 0; d < z.size(1); ++d) norm += std::pow(z[i][d].item<double>(), 2);
    norm = std::sqrt(norm);
    for (int64_t d = 0; d < z.size(1); ++d) v[i][d] = z[i][d].item<double>() / norm;
  }
  auto dot = [&](int64_t a, int64_t b) {
    double s = 0;
    for (size_t d = 0; d < v[a].size(); ++d) s += v[a][d] * v[b][d];
    return s;
  };
  double total = 0;
  for (int64_t i = 0; i < M; ++i) {
    const int64_t pos = i < N ? i + N : i - N;
    double denom = 0;
    for (int64_t j = 0; j < M; ++j)
      if (j != i) denom += std::exp(dot(i, j) / T);
    total += -std::log(std::exp(dot(i, pos) / T) / denom);
  }
  return total / M;
}

}  // namespace

TEST(NtXent, MatchesIndependentReference) {
  torch::manual_seed(0);
  for (double T : {0.1, 0.2, 0.5, 1.0}) {
    auto z1 = torch::randn({6, 5}), z2 = torch::randn({6, 5});
    EXPECT_NEAR(nt_xent(z1, z2, T).item<double>(), nt_xent_reference(z1, z2, T), 1e-5) << "T=" << T;
  }
}

TEST(NtXent, HandComputedTwoPairs) {
  // z1 = {e1, e2}, z2 = {e1, e2}: each view has cos 1 with its positive, 0
  // with the other pair's two views. loss = -log(e^{1/T} / (e^{1/T} + 2)).
  auto e = torch::eye(2);
  const double T = 0.5;
  const double expected = -std::log(std::exp(2.0) / (std::exp(2.0) + 2.0));
  EXPECT_NEAR(nt_xent(e, e, T).item<double>(), expected, 1e-6);
}

TEST(NtXent, InvariantToScaleOfEmbeddings) {
  torch::manual_seed(1);
  auto z1 = torch::randn({4, 3}), z2 = torch::randn({4, 3});
  EXPECT_NEAR(nt_xent(z1, z2, 0.2).item<double>(), nt_xent(z1 * 7, z2 * 0.3, 0.2).item<double>(), 1e-5);
}

TEST(NtXent, IndexedFormEqualsTwoViewForm) {
  torch::manual_seed(2);
  auto z1 = torch::randn({5, 4}, torch::kFloat64), z2 = torch::randn({5, 4}, torch::kFloat64);
  auto idx = torch::arange(5, torch::kInt64);
  EXPECT_NEAR(nt_xent(z1, z2, 0.3).item<double>(),
              nt_xent_indexed(torch::cat({z1, z2}), torch::cat({idx, idx}), 0.3).item<double>(), 1e-12);
}

TEST(NtXent, GradientMatchesFiniteDifferences) {
  torch::manual_seed(3);
  auto z1 = torch::randn({4, 3}, torch::kFloat64).requires_grad_(true);
  auto z2 = torch::randn({4, 3}, torch::kFloat64).requires_grad_(true);
  const double T = 0.2, h = 1e-6;
  auto loss = nt_xent(z1, z2, T);
  loss.backward();
  for (auto* z : {&z1, &z2}) {
    auto g = z->grad().clone();
    for (int64_t i = 0; i < z->numel(); ++i) {
      torch::NoGradGuard ng;
      auto flat = z->view({-1});
      const double orig = flat[i].item<double>();
      flat[i] = orig + h;
      const double up = nt_xent(z1, z2, T).item<double>();
      flat[i] = orig - h;
      const double down = nt_xent(z1, z2, T).item<double>();
      flat[i] = orig;
      EXPECT_NEAR(g.view({-1})[i].item<double>(), (up - down) / (2 * h), 1e-6);
    }
  }
}

TEST(NtXent, BadShapesAreErrors) {
  EXPECT_THROW(nt_xent(torch::randn({4, 3}), torch::randn({5, 3}), 0.2), gps::Error);
  EXPECT_THROW(nt_xent(torch::randn({4, 3}), torch::randn({4, 3}), 0.0), gps::Error);
}
