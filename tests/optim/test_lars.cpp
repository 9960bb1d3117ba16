// LARS against hand-computed steps, its treatment of 1-D parameters, and
// its state in checkpoints.
#include "gps/core/check.h"
#include "gps/optim/lars.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

using namespace gps;

namespace {

torch::Tensor param(std::vector<double> v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kFloat64).reshape(shape).requires_grad_(true);
}

void set_grad(torch::Tensor& p, std::vector<double> g) {
  p.mutable_grad() = torch::tensor(g, torch::kFloat64).reshape(p.sizes());
}

std::vector<double> values(const torch::Tensor& t) {
  auto c = t.detach().reshape({-1}).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

TEST(Lars, OneStepMatchesHandComputation) {
  // p = [[3, 4]] (|p| = 5), g = [[0.6, 0.8]] (|g| = 1), wd 0.1, eta 0.02, lr 0.5:
  // trust = 0.02 * 5 / (1 + 0.1 * 5) = 1/15; clipped: min((1/15) / 0.5, 1) = 2/15;
  // d = 2/15 * (g + 0.1 p) = 2/15 * [0.9, 1.2] = [0.12, 0.16]; p -= 0.5 d.
  auto p = param({3, 4}, {1, 2});
  set_grad(p, {0.6, 0.8});
  LARS opt({p}, LARSOptions(0.5).momentum(0.9).weight_decay(0.1).eta(0.02).eps(0));
  opt.step();
  auto v = values(p);
  EXPECT_NEAR(v[0], 2.94, 1e-12);
  EXPECT_NEAR(v[1], 3.92, 1e-12);
  // Second step: momentum buffer 0.9 * [0.12, 0.16] + new d. |p| = 4.9.
  set_grad(p, {0.6, 0.8});
  opt.step();
  const double r = (0.02 * 4.9 / (1 + 0.1 * 4.9)) / 0.5;
  const double b0 = 0.9 * 0.12 + r * (0.6 + 0.1 * 2.94), b1 = 0.9 * 0.16 + r * (0.8 + 0.1 * 3.92);
  v = values(p);
  EXPECT_NEAR(v[0], 2.94 - 0.5 * b0, 1e-12);
  EXPECT_NEAR(v[1], 3.92 - 0.5 * b1, 1e-12);
}

TEST(Lars, ClipMakesSmallLrPlainSgdWithDecay) {
  // trust / lr = (1/15) / 0.01 > 1: clipped to 1, the step is lr (g + wd p).
  auto p = param({3, 4}, {2, 1});
  set_grad(p, {0.6, 0.8});
  LARS opt({p}, LARSOptions(0.01).momentum(0.9).weight_decay(0.1).eta(0.02).eps(0));
  opt.step();
  auto v = values(p);
  EXPECT_NEAR(v[0], 3 - 0.01 * 0.9, 1e-12);
  EXPECT_NEAR(v[1], 4 - 0.01 * 1.2, 1e-12);
}

TEST(Lars, WithoutClipTheTrustRatioScalesTheLr) {
  auto p = param({3, 4}, {1, 2});
  set_grad(p, {0.6, 0.8});
  LARS opt({p}, LARSOptions(0.5).momentum(0).weight_decay(0.1).eta(0.02).eps(0).clip_lr(false));
  opt.step();
  auto v = values(p);
  EXPECT_NEAR(v[0], 3 - 0.5 * (1.0 / 15) * 0.9, 1e-12);
  EXPECT_NEAR(v[1], 4 - 0.5 * (1.0 / 15) * 1.2, 1e-12);
}

TEST(Lars, OneDimensionalParamsGetPlainMomentumSgd) {
  auto bias = param({1, 2}, {2});
  set_grad(bias, {0.5, -0.5});
  LARS opt({bias}, LARSOptions(0.5).momentum(0.9).weight_decay(0.1).eta(0.02));
  opt.step();
  auto v = values(bias);  // no trust ratio, no weight decay
  EXPECT_NEAR(v[0], 1 - 0.5 * 0.5, 1e-12);
  EXPECT_NEAR(v[1], 2 + 0.5 * 0.5, 1e-12);
  set_grad(bias, {0.5, -0.5});
  opt.step();
  v = values(bias);  // buffer 0.9 * g + g
  EXPECT_NEAR(v[0], 0.75 - 0.5 * 1.9 * 0.5, 1e-12);
  // With exclude_bias_n_norm = false they are scaled and decayed like weights.
  auto b2 = param({3, 4}, {2});
  set_grad(b2, {0.6, 0.8});
  LARS opt2({b2}, LARSOptions(0.5).momentum(0.9).weight_decay(0.1).eta(0.02).eps(0).exclude_bias_n_norm(false));
  opt2.step();
  EXPECT_NEAR(values(b2)[0], 2.94, 1e-12);
}

TEST(Lars, ParamsWithoutGradientsAreUntouched) {
  auto a = param({1, 2}, {1, 2}), b = param({3, 4}, {1, 2});
  set_grad(b, {1, 1});
  LARS opt({a, b}, LARSOptions(0.5));
  opt.step();
  EXPECT_EQ(values(a), (std::vector<double>{1, 2}));
  EXPECT_NE(values(b), (std::vector<double>{3, 4}));
}

TEST(Lars, GroupsKeepTheirOwnLrAndDecay) {
  auto w = param({3, 4}, {1, 2}), cls = param({3, 4}, {1, 2});
  set_grad(w, {0.6, 0.8});
  set_grad(cls, {0.6, 0.8});
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{w},
                      std::make_unique<LARSOptions>(LARSOptions(0.5).weight_decay(0.1).eps(0)));
  groups.emplace_back(std::vector<torch::Tensor>{cls}, std::make_unique<LARSOptions>(LARSOptions(0.01).eps(0)));
  LARS opt(std::move(groups), LARSOptions(0.5));
  opt.param_groups()[0].options().set_lr(0.5);
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].options().get_lr(), 0.01);
  opt.step();
  EXPECT_NEAR(values(w)[0], 2.94, 1e-12);
  // cls: trust 0.02 * 5 / 1 = 0.1, / 0.01 > 1 -> clipped: plain step 0.01 * g, no decay.
  EXPECT_NEAR(values(cls)[0], 3 - 0.01 * 0.6, 1e-12);
}

TEST(Lars, StateSurvivesSaveAndLoad) {
  auto p1 = param({3, 4, 1, 2}, {2, 2});
  LARS a({p1}, LARSOptions(0.5).weight_decay(0.1));
  set_grad(p1, {0.1, 0.2, -0.3, 0.4});
  a.step();
  // Copy a's momentum into a third optimiser over a copy of p1, then step both.
  torch::serialize::OutputArchive out;
  a.save(out);
  std::ostringstream os;
  out.save_to(os);
  auto p3 = p1.detach().clone().requires_grad_(true);
  LARS c({p3}, LARSOptions(0.5).weight_decay(0.1));
  torch::serialize::InputArchive in;
  std::istringstream is(os.str());
  in.load_from(is);
  c.load(in);
  for (auto* p : {&p1, &p3}) set_grad(*p, {0.1, 0.2, -0.3, 0.4});
  a.step();
  c.step();
  EXPECT_TRUE(torch::equal(p1, p3));
}

TEST(Lars, BadOptionsAreErrors) {
  auto p = param({1, 2}, {1, 2});
  EXPECT_THROW(LARS({p}, LARSOptions(-1)), gps::Error);
  EXPECT_THROW(LARS({p}, LARSOptions(0.1).eta(0)), gps::Error);
}

namespace {

// The LARS of before the trust ratio moved onto the device: the norms read
// to the host as doubles (two waits per parameter), the ratio computed
// there. The reference the device-side update must reproduce.
void host_lars_step(std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& bufs, const LARSOptions& o) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& p = params[i];
    if (!p.grad().defined()) continue;
    auto d = p.grad();
    if (p.dim() >= 2 || !o.exclude_bias_n_norm()) {
      const double pn = p.norm().item<double>(), gn = d.norm().item<double>();
      if (pn > 0 && gn > 0) {
        double r = o.eta() * pn / (gn + o.weight_decay() * pn + o.eps());
        if (o.clip_lr()) r = o.lr() > 0 ? std::min(r / o.lr(), 1.0) : 1.0;
        d = (d + o.weight_decay() * p) * r;
      }
    }
    if (!bufs[i].defined()) bufs[i] = d.clone();
    else bufs[i].mul_(o.momentum()).add_(d);
    p.add_(bufs[i], -o.lr());
  }
}

}  // namespace

// The device-side trust ratio (no .item(): no host wait per parameter on a
// GPU) gives the host-read updates to 1e-6, in float32, over several
// momentum steps: weights and biases, clipped and not, a zero weight and a
// zero gradient (no ratio, no decay), and a zero lr.
TEST(Lars, DeviceSideTrustRatioMatchesHostReads) {
  for (const bool clip : {true, false})
    for (const bool exclude : {true, false})
      for (const double lr : {0.5, 0.003, 0.0}) {
        torch::manual_seed(3);
        std::vector<torch::Tensor> a = {torch::randn({8, 4, 3, 3}), torch::randn({8}), torch::zeros({4, 4}),
                                        torch::randn({5, 6})};
        std::vector<torch::Tensor> b;
        for (auto& t : a) t.requires_grad_(true), b.push_back(t.detach().clone().requires_grad_(true));
        const auto o = LARSOptions(lr).momentum(0.9).weight_decay(1e-4).eta(0.02).clip_lr(clip).exclude_bias_n_norm(exclude);
        LARS opt(a, o);
        std::vector<torch::Tensor> bufs(b.size());
        for (int step = 0; step < 4; ++step) {
          for (size_t i = 0; i < a.size(); ++i) {
            auto g = i == 3 ? torch::zeros_like(a[i]) : torch::randn_like(a[i]);  // the last: a zero gradient
            a[i].mutable_grad() = g.clone();
            b[i].mutable_grad() = g.clone();
          }
          opt.step();
          host_lars_step(b, bufs, o);
          for (size_t i = 0; i < a.size(); ++i)
            ASSERT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-6))
                << "param " << i << " step " << step << " clip " << clip << " exclude " << exclude << " lr " << lr
                << ": max diff " << (a[i] - b[i]).abs().max().item<double>();
        }
      }
}
