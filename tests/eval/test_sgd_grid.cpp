// The paper's linear evaluation (eval.linear=sgd-grid): an SGD classifier on
// the raw features over the classifier-lr grid, the lr chosen on a
// validation split of train, refit on all of train.
#include "gps/config/config.h"
#include "gps/eval/evaluate.h"
#include "gps/eval/linear_probe.h"
#include "gps/eval/linear_select.h"
#include "gps/optim/schedule.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gps;

namespace {

// Gaussian features with labels from a noisy linear rule: not separable, so
// the probe's exact weights decide many predictions.
std::pair<torch::Tensor, torch::Tensor> noisy(int64_t n, int64_t d, int64_t classes, uint64_t seed) {
  torch::Generator g = at::detail::createCPUGenerator(seed);
  auto x = torch::randn({n, d}, g) * 2.0 + 0.5;
  auto w = torch::randn({d, classes}, g);
  auto y = (x.mm(w) + torch::randn({n, classes}, g) * 3.0).argmax(1);
  return {x, y};
}

Dataset labelled(const torch::Tensor& y, int64_t classes, const std::string& name) {
  Dataset d;
  d.name = name;
  d.images = torch::zeros({y.size(0), 1, 1, 1}, torch::kUInt8);
  d.labels = y;
  d.num_classes = classes;
  return d;
}

}  // namespace

// Full-batch softmax regression written out: gradient X^T (softmax - onehot) / N,
// torch's momentum buffer (b = 0.9 b + g, b = g at the first step), the
// probe's cosine lr, in float64 on the raw (not standardised) features.
TEST(SgdProbe, MatchesMomentumSgdWrittenOut) {
  const int64_t N = 120, D = 6, C = 3, epochs = 5;
  auto [x, y] = noisy(N, D, C, 3);
  auto [xt, yt] = noisy(200, D, C, 4);
  LinearProbeOptions o;
  o.optimizer = "sgd";
  o.epochs = epochs;
  o.lr = 0.3;
  o.weight_decay = 0;
  o.batch_size = N;  // one full-batch step per epoch: the order does not matter
  o.seed = 11;
  const auto r = linear_probe(x, y, xt, yt, C, o);

  torch::Generator gen = at::detail::createCPUGenerator(o.seed);
  auto W = (torch::randn({D, C}, gen, torch::kFloat32) * (1.0 / std::sqrt(double(D)))).to(torch::kFloat64);
  auto b = torch::zeros({C}, torch::kFloat64);
  auto X = x.to(torch::kFloat64), onehot = torch::one_hot(y, C).to(torch::kFloat64);
  torch::Tensor mW, mb;
  for (int64_t step = 0; step < epochs; ++step) {
    const double lr = warmup_cosine(step, epochs, 0, o.lr, o.lr, 0.0);
    auto p = torch::softmax(X.mm(W) + b, 1);
    auto gW = X.t().mm(p - onehot) / double(N), gb = (p - onehot).sum(0) / double(N);
    mW = step == 0 ? gW : mW * 0.9 + gW;
    mb = step == 0 ? gb : mb * 0.9 + gb;
    W = W - lr * mW;
    b = b - lr * mb;
  }
  const auto pred = (xt.to(torch::kFloat64).mm(W) + b).argmax(1);
  const double agree = pred.eq(r.test_pred).to(torch::kFloat64).mean().item<double>();
  EXPECT_EQ(agree, 1.0);
  EXPECT_NEAR(r.test_accuracy, pred.eq(yt).to(torch::kFloat64).mean().item<double>(), 1e-12);

  // Adam standardises, SGD does not: scaling the features by 100 changes SGD's
  // classifier, not Adam's.
  LinearProbeOptions a = o;
  a.optimizer = "adam";
  const auto a1 = linear_probe(x, y, xt, yt, C, a), a100 = linear_probe(x * 100, y, xt * 100, yt, C, a);
  EXPECT_NEAR(a1.test_accuracy, a100.test_accuracy, 0.02);
  const auto s100 = linear_probe(x * 100, y, xt * 100, yt, C, o);
  EXPECT_FALSE(torch::equal(s100.test_pred, r.test_pred));
}

TEST(SgdProbe, SgdGridSelectsTheLrOnValidationAndRefits) {
  auto [x, y] = noisy(400, 8, 4, 5);
  auto [xt, yt] = noisy(300, 8, 4, 6);
  const Dataset tr = labelled(y, 4, "train"), te = labelled(yt, 4, "test");
  EvalConfig cfg;
  ASSERT_EQ(cfg.linear, "sgd-grid");  // the default: the paper's protocol
  cfg.linear_epochs = 4;
  cfg.knn_k = 5;
  const auto r = evaluate_features(x, tr, xt, te, cfg, 7);
  EXPECT_EQ(r.linear, "sgd-grid");
  EXPECT_EQ(r.linear_select, "val");
  EXPECT_EQ(r.linear_weight_decay, 0.0);

  // The same selection by hand: every lr of the paper's grid on the fit rows,
  // the best on validation (first on ties), refit on all of train.
  LinearSelectOptions so;
  so.base.optimizer = "sgd";
  so.base.epochs = cfg.linear_epochs;
  so.base.batch_size = cfg.linear_batch_size;
  so.base.seed = 7;
  so.lrs = {0.03, 0.01, 0.3, 0.1, 1, 3};
  so.weight_decays = {0.0};
  so.val_fraction = cfg.val_fraction;
  const auto sel = linear_probe_select(x, y, xt, yt, 4, so);
  ASSERT_EQ(sel.grid_val_accuracy.size(), 6u);
  size_t best = 0;
  for (size_t i = 1; i < 6; ++i)
    if (sel.grid_val_accuracy[i] > sel.grid_val_accuracy[best]) best = i;
  EXPECT_EQ(r.linear_lr, so.lrs[best]);
  EXPECT_DOUBLE_EQ(r.linear_val_top1, 100.0 * sel.grid_val_accuracy[best]);
  EXPECT_DOUBLE_EQ(r.linear_top1, 100.0 * sel.refit.test_accuracy);
  // The test split never enters the choice: other test labels, same lr.
  const Dataset te2 = labelled(yt.flip({0}), 4, "test");
  EXPECT_EQ(evaluate_features(x, tr, xt, te2, cfg, 7).linear_lr, r.linear_lr);

  // adam keeps the earlier probe: no selection unless linear_select=val.
  cfg.linear = "adam";
  const auto a = evaluate_features(x, tr, xt, te, cfg, 7);
  EXPECT_EQ(a.linear, "adam");
  EXPECT_EQ(a.linear_select, "none");
  EXPECT_EQ(a.linear_lr, cfg.linear_lr);
}

TEST(SgdProbe, KeysAreValidated) {
  Config c;
  EXPECT_NE(test::error_of([&] { c.set("eval.linear", "lbfgs"); }).find("eval.linear"), std::string::npos);
  c.set("eval.sgd_lr_grid", "0.1,x");
  EXPECT_NE(test::error_of([&] { c.validate(); }).find("eval.sgd_lr_grid"), std::string::npos);
  c.set("eval.linear", "adam");
  c.validate();  // the grid is not read by the Adam probe
  // Old summaries (before eval.linear) read as the Adam probe.
  const auto r = EvalResult::from_json({{"linear_top1", 50.0}}, "summary.json");
  EXPECT_EQ(r.linear, "adam");
}
