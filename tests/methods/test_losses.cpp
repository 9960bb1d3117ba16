#include "gps/methods/losses.h"
#include "gps/core/check.h"
#include "gps/config/config.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

// The losses without masked_select (whose output size the host must read:
// a wait for the device every step on a GPU) give the values and gradients
// of the masked_select forms they replaced: nt_xent with rows that have no
// positive, and the off-diagonal sums of Barlow Twins and VICReg.
TEST(Losses, NoMaskedSelectGivesTheMaskedSelectValues) {
  namespace F = torch::nn::functional;
  torch::manual_seed(5);
  // nt_xent: rows 4 and 5 have no positive (singleton indexes).
  auto z = torch::randn({6, 8}, torch::requires_grad());
  const auto idx = torch::tensor({0, 1, 0, 1, 7, 9}, torch::kInt64);
  auto masked_nt_xent = [&](const torch::Tensor& zz) {
    const double T = 0.2, inf = std::numeric_limits<double>::infinity();
    auto zn = F::normalize(zz, F::NormalizeFuncOptions().dim(1));
    auto logits = zn.mm(zn.t()) / T;
    auto eye = torch::eye(6, torch::kBool);
    auto pos = idx.unsqueeze(0).eq(idx.unsqueeze(1)).logical_and(eye.logical_not());
    auto masked = logits.masked_fill(eye, -inf);
    auto l = torch::logsumexp(masked, 1) - torch::logsumexp(masked.masked_fill(pos.logical_not(), -inf), 1);
    return l.masked_select(pos.any(1)).mean();
  };
  auto z_ref = z.detach().clone().requires_grad_(true);
  auto a = nt_xent_indexed(z, idx, 0.2), b = masked_nt_xent(z_ref);
  a.backward();
  b.backward();
  EXPECT_NEAR(a.item<double>(), b.item<double>(), 1e-6);
  EXPECT_TRUE(torch::allclose(z.grad(), z_ref.grad(), 1e-5, 1e-7));
  // Two views with every row a positive: the same value to the last bit.
  auto z1 = torch::randn({5, 4}), z2 = torch::randn({5, 4});
  auto n = torch::arange(5, torch::kInt64);
  auto both = torch::cat({z1, z2}, 0), both_idx = torch::cat({n, n});
  auto ref2 = [&] {
    const double inf = std::numeric_limits<double>::infinity();
    auto zn = F::normalize(both, F::NormalizeFuncOptions().dim(1));
    auto logits = zn.mm(zn.t()) / 0.2;
    auto eye = torch::eye(10, torch::kBool);
    auto pos = both_idx.unsqueeze(0).eq(both_idx.unsqueeze(1)).logical_and(eye.logical_not());
    auto masked = logits.masked_fill(eye, -inf);
    auto l = torch::logsumexp(masked, 1) - torch::logsumexp(masked.masked_fill(pos.logical_not(), -inf), 1);
    return l.masked_select(pos.any(1)).mean();
  }();
  EXPECT_EQ(nt_xent(z1, z2, 0.2).item<float>(), ref2.item<float>());

  // Off-diagonal sums: Barlow Twins and VICReg against masked_select references.
  auto x1 = torch::randn({16, 6}), x2 = torch::randn({16, 6});
  auto off = torch::eye(6, torch::kBool).logical_not();
  auto standardise = [](const torch::Tensor& x) {
    return (x - x.mean(0, true)) / torch::sqrt(x.var(0, false, true) + 1e-5);
  };
  auto c = standardise(x1).t().mm(standardise(x2)) / 16.0;
  const auto bt = barlow_twins_loss(x1, x2, 0.005, 0.1);
  EXPECT_NEAR(bt.off_diag.item<double>(), c.pow(2).masked_select(off).sum().item<double>(), 1e-6);
  auto cov_term = [&](const torch::Tensor& x) {
    auto cc = x - x.mean(0, true);
    return (cc.t().mm(cc) / 15.0).pow(2).masked_select(off).sum() / 6.0;
  };
  const auto vr = vicreg_loss(x1, x2, 25, 25, 1, 1e-4);
  EXPECT_NEAR(vr.covariance.item<double>(), (cov_term(x1) + cov_term(x2)).item<double>(), 1e-6);
}

// A batch in which no row has a positive is an error on the CPU, as before;
// on a GPU the check would cost a wait every step, and the loss is NaN there.
TEST(Losses, NtXentWithoutAnyPositiveIsAnErrorOnTheCpu) {
  EXPECT_THROW(nt_xent_indexed(torch::randn({3, 4}), torch::tensor({0, 1, 2}, torch::kInt64), 0.2), gps::Error);
}

// method.vicreg_variance=mean: the two branches' variance terms averaged (the
// VICReg authors' code, lightly) instead of summed (solo-learn): half the
// variance term, the rest unchanged, gradients through the mean as well.
TEST(Losses, VicregVarianceMeanHalvesTheVarianceTerm) {
  torch::manual_seed(4);
  auto z1 = torch::randn({16, 6}, torch::kFloat64) * 0.3, z2 = torch::randn({16, 6}, torch::kFloat64) * 0.5;
  const auto s = vicreg_loss(z1, z2, 25, 25, 1, 1e-4, false), m = vicreg_loss(z1, z2, 25, 25, 1, 1e-4, true);
  EXPECT_NEAR(m.variance.item<double>(), 0.5 * s.variance.item<double>(), 1e-7);
  EXPECT_NEAR(m.invariance.item<double>(), s.invariance.item<double>(), 1e-9);
  EXPECT_NEAR(m.covariance.item<double>(), s.covariance.item<double>(), 1e-9);
  EXPECT_NEAR(s.loss.item<double>() - m.loss.item<double>(), 25 * m.variance.item<double>(), 1e-5);
  gps::Config c;
  c.set("method.vicreg_variance", "mean");
  EXPECT_EQ(c.method.vicreg_variance, "mean");
  EXPECT_NE(gps::test::error_of([&] { c.set("method.vicreg_variance", "avg"); }).find("method.vicreg_variance"),
            std::string::npos);
}
