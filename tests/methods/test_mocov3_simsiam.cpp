// MoCo v3 and SimSiam: the losses against the papers' pseudo-code (written
// here in float64 from elementary operations, independently of losses.cpp),
// value and gradient to 1e-9; the heads as solo-learn builds them; the
// momentum encoder; a step of each method.
#include "gps/core/check.h"
#include "gps/distributed/sync_batch_norm.h"
#include "gps/methods/byol.h"
#include "gps/methods/losses.h"
#include "gps/methods/mocov3.h"
#include "gps/methods/simsiam.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gps;

namespace {

torch::Tensor unit_rows(const torch::Tensor& x) { return x / x.pow(2).sum(1, true).sqrt(); }

// MoCo v3, Algorithm 1 of the paper: ctr(q, k) = CE(q k^T / tau, arange(N)) * 2 tau,
// with q and k normalised and the keys constant.
torch::Tensor mocov3_reference(const torch::Tensor& q, const torch::Tensor& k_in, double tau) {
  const auto k = k_in.detach();
  const auto logits = unit_rows(q).mm(unit_rows(k).t()) / tau;
  const auto log_softmax = logits - logits.exp().sum(1, true).log();
  return -log_softmax.diagonal().mean() * (2 * tau);
}

// SimSiam, Algorithm 1: D(p, z) = -(normalize(p) . normalize(stopgrad z)).sum(1).mean().
torch::Tensor simsiam_reference(const torch::Tensor& p, const torch::Tensor& z) {
  return -(unit_rows(p) * unit_rows(z.detach())).sum(1).mean();
}

// Value and gradient with respect to the first input, both in float64.
void expect_same(const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& got_fn,
                 const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& want_fn,
                 int64_t n, int64_t d, uint64_t seed) {
  torch::manual_seed(seed);
  const auto a0 = torch::randn({n, d}, torch::kFloat64), b0 = torch::randn({n, d}, torch::kFloat64);
  auto a1 = a0.clone().requires_grad_(true), b1 = b0.clone().requires_grad_(true);
  auto a2 = a0.clone().requires_grad_(true), b2 = b0.clone().requires_grad_(true);
  const auto got = got_fn(a1, b1), want = want_fn(a2, b2);
  EXPECT_EQ(got.scalar_type(), torch::kFloat64);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-9);
  got.backward();
  want.backward();
  EXPECT_LT((a1.grad() - a2.grad()).abs().max().item<double>(), 1e-9);
  EXPECT_FALSE(b1.grad().defined() && b1.grad().abs().max().item<double>() > 0);  // stop-gradient on the second
}

MethodConfig tiny(const std::string& name) {
  MethodConfig m;
  m.name = name;
  m.proj_hidden_dim = 8;
  m.proj_output_dim = 6;
  m.pred_hidden_dim = 4;
  return m;
}

Views views_of(int64_t b) {
  return {{torch::randn({b, 1, 8, 8}), ViewOf::anchor}, {torch::randn({b, 1, 8, 8}), ViewOf::positive}};
}

// "Linear(8->4, bias=0)", "BN", "BN(no affine)", "ReLU": the layers of a head, in order.
std::vector<std::string> layers_of(const torch::nn::Sequential& s) {
  std::vector<std::string> out;
  for (const auto& m : s->children()) {
    if (auto* l = m->as<torch::nn::Linear>())
      out.push_back(str_cat("Linear(", l->options.in_features(), "->", l->options.out_features(), ", bias=",
                            l->options.bias(), ")"));
    else if (auto* bn = m->as<SyncBatchNorm>())
      out.push_back(bn->options.affine() ? "BN" : "BN(no affine)");
    else if (m->as<torch::nn::ReLU>())
      out.push_back("ReLU");
    else
      out.push_back("?" + m->name());
  }
  return out;
}

}  // namespace

TEST(MoCoV3Loss, MatchesThePapersPseudoCodeValueAndGradient) {
  for (double tau : {0.1, 0.2, 1.0})
    expect_same([tau](auto& q, auto& k) { return mocov3_loss(q, k, tau); },
                [tau](auto& q, auto& k) { return mocov3_reference(q, k, tau); }, 7, 5, 3);
}

TEST(MoCoV3Loss, PerfectKeysGiveTheHandComputedValue) {
  // q = k = the identity's rows: each query's logit is 1/tau on its key, 0 on the N-1 others.
  const int64_t n = 3;
  const double tau = 0.5;
  const auto e = torch::eye(n, torch::kFloat64);
  const double want = -std::log(std::exp(1 / tau) / (std::exp(1 / tau) + (n - 1))) * 2 * tau;
  EXPECT_NEAR(mocov3_loss(e, e, tau).item<double>(), want, 1e-12);
  EXPECT_THROW(mocov3_loss(e, e, 0.0), gps::Error);
  EXPECT_THROW(mocov3_loss(e, torch::eye(4, torch::kFloat64), tau), gps::Error);
}

TEST(SimSiamLoss, MatchesThePapersPseudoCodeValueAndGradient) {
  expect_same([](auto& p, auto& z) { return simsiam_loss(p, z); },
              [](auto& p, auto& z) { return simsiam_reference(p, z); }, 9, 4, 5);
  const auto x = torch::randn({4, 3}, torch::kFloat64);
  EXPECT_NEAR(simsiam_loss(x, 2.5 * x).item<double>(), -1.0, 1e-12);  // identical directions
  EXPECT_NEAR(simsiam_loss(x, -x).item<double>(), 1.0, 1e-12);
}

TEST(MoCoV3, HeadsAreSoloLearnsAndTheMomentumEncoderStartsAsACopy) {
  auto m = std::dynamic_pointer_cast<MoCoV3Impl>(make_method(tiny("mocov3"), test::tiny_model(), 1));
  ASSERT_TRUE(m);
  const int64_t f = m->backbone()->feature_dim();
  const std::vector<std::string> proj = {str_cat("Linear(", f, "->8, bias=0)"), "BN", "ReLU",
                                         "Linear(8->6, bias=0)", "BN(no affine)"};
  const std::vector<std::string> pred = {"Linear(6->4, bias=0)", "BN", "ReLU",
                                         "Linear(4->6, bias=0)"};
  EXPECT_EQ(layers_of(m->projector), proj);
  EXPECT_EQ(layers_of(m->predictor), pred);
  EXPECT_EQ(layers_of(m->momentum_projector), proj);
  auto online = m->backbone_->parameters(), target = m->momentum_backbone->parameters();
  ASSERT_EQ(online.size(), target.size());
  for (size_t i = 0; i < online.size(); ++i) {
    EXPECT_TRUE(torch::equal(online[i], target[i]));
    EXPECT_FALSE(target[i].requires_grad());
  }
}

TEST(MoCoV3, AStepMovesTheMomentumEncoderByTau) {
  torch::manual_seed(2);
  auto m = std::dynamic_pointer_cast<MoCoV3Impl>(make_method(tiny("mocov3"), test::tiny_model(), 1));
  m->train();
  auto out = m->training_step(views_of(6));
  ASSERT_TRUE(std::isfinite(out.loss.item<double>()));
  EXPECT_NEAR(out.loss.item<double>(), (out.logs["mocov3_v1"] + out.logs["mocov3_v2"]).item<double>(), 1e-6);
  EXPECT_NEAR(out.logs["tau"].item<double>(), 0.99, 1e-12);
  out.loss.backward();
  for (auto& p : m->momentum_backbone->parameters()) EXPECT_FALSE(p.grad().defined());
  const auto before = m->momentum_projector->parameters()[0].clone();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->projector->parameters()) p.add_(1.0);  // an optimiser step, exaggerated
  }
  const auto online = m->projector->parameters()[0].clone();
  m->after_step(0.5);
  // target <- 0.99 target + 0.01 online; the next rate follows BYOL's cosine.
  EXPECT_LT((m->momentum_projector->parameters()[0] - (0.99 * before + 0.01 * online)).abs().max().item<double>(), 1e-6);
  auto next = m->training_step(views_of(6));
  EXPECT_NEAR(next.logs["tau"].item<double>(), byol_tau(0.99, 0.5), 1e-12);
}

TEST(SimSiam, HeadsAreSoloLearnsAndALossStepLowersTheLoss) {
  torch::manual_seed(4);
  auto m = std::dynamic_pointer_cast<SimSiamImpl>(make_method(tiny("simsiam"), test::tiny_model(), 1));
  ASSERT_TRUE(m);
  const int64_t f = m->backbone()->feature_dim();
  EXPECT_EQ(layers_of(m->projector),
            (std::vector<std::string>{str_cat("Linear(", f, "->8, bias=0)"), "BN", "ReLU",
                                      "Linear(8->8, bias=0)", "BN", "ReLU",
                                      "Linear(8->6, bias=0)", "BN(no affine)"}));
  EXPECT_EQ(layers_of(m->predictor), (std::vector<std::string>{"Linear(6->4, bias=0)", "BN",
                                                               "ReLU", "Linear(4->6, bias=1)"}));
  m->train();
  const Views v = views_of(8);
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.05));
  auto first = m->training_step(v);
  EXPECT_GE(first.loss.item<double>(), -1.0);
  EXPECT_LE(first.loss.item<double>(), 1.0);
  EXPECT_NEAR(first.loss.item<double>(), 0.5 * (first.logs["neg_cos_v1"] + first.logs["neg_cos_v2"]).item<double>(),
              1e-6);
  for (int i = 0; i < 5; ++i) {
    auto out = m->training_step(v);
    opt.zero_grad();
    out.loss.backward();
    opt.step();
  }
  EXPECT_LT(m->training_step(v).loss.item<double>(), first.loss.item<double>());
}
