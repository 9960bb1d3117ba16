// The BYOL, NNCLR, Barlow Twins and VICReg losses and methods: reference
// values from plain double loops, finite-difference gradients, invariants.
#include "gps/core/check.h"
#include "gps/methods/byol.h"
#include "gps/methods/feature_queue.h"
#include "gps/methods/losses.h"
#include "gps/methods/method.h"
#include "gps/methods/nnclr.h"
#include "gps/optim/lars.h"
#include "gps/train/checkpoint.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

using namespace gps;

namespace {

// Two random views of a batch of b 8x8 gray images: the anchors' and the positives'.
Views random_views(int64_t b) {
  auto x1 = torch::randn({b, 1, 8, 8});
  auto x2 = torch::randn({b, 1, 8, 8});
  return {{x1, ViewOf::anchor}, {x2, ViewOf::positive}};
}

using Mat = std::vector<std::vector<double>>;

Mat to_mat(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat64).contiguous();
  Mat m(c.size(0), std::vector<double>(c.size(1)));
  auto a = c.accessor<double, 2>();
  for (int64_t i = 0; i < c.size(0); ++i)
    for (int64_t j = 0; j < c.size(1); ++j) m[i][j] = a[i][j];
  return m;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double column_mean(const Mat& z, size_t d) {
  double s = 0;
  for (auto& r : z) s += r[d];
  return s / double(z.size());
}

double column_var(const Mat& z, size_t d, bool unbiased) {
  const double m = column_mean(z, d);
  double s = 0;
  for (auto& r : z) s += (r[d] - m) * (r[d] - m);
  return s / double(z.size() - (unbiased ? 1 : 0));
}

double byol_reference(const torch::Tensor& p, const torch::Tensor& z) {
  auto P = to_mat(p), Z = to_mat(z);
  double s = 0;
  for (size_t i = 0; i < P.size(); ++i)
    s += 2 - 2 * dot(P[i], Z[i]) / std::sqrt(dot(P[i], P[i]) * dot(Z[i], Z[i]));
  return s / double(P.size());
}

double nnclr_reference(const torch::Tensor& nn, const torch::Tensor& p, double T) {
  auto A = to_mat(nn), B = to_mat(p);
  double s = 0;
  for (size_t i = 0; i < A.size(); ++i) {
    double denom = 0, pos = 0;
    for (size_t j = 0; j < B.size(); ++j) {
      const double l = dot(A[i], B[j]) / std::sqrt(dot(A[i], A[i]) * dot(B[j], B[j])) / T;
      denom += std::exp(l);
      if (j == i) pos = l;
    }
    s += std::log(denom) - pos;
  }
  return s / double(A.size());
}

// {loss, on_diag, off_diag}
std::vector<double> barlow_reference(const torch::Tensor& z1, const torch::Tensor& z2, double lambda, double scale) {
  auto A = to_mat(z1), B = to_mat(z2);
  const size_t N = A.size(), D = A[0].size();
  for (Mat* m : {&A, &B}) {
    std::vector<double> mean(D), sd(D);
    for (size_t d = 0; d < D; ++d) {
      mean[d] = column_mean(*m, d);
      sd[d] = std::sqrt(column_var(*m, d, false) + 1e-5);
    }
    for (auto& r : *m)
      for (size_t d = 0; d < D; ++d) r[d] = (r[d] - mean[d]) / sd[d];
  }
  double on = 0, off = 0;
  for (size_t i = 0; i < D; ++i)
    for (size_t j = 0; j < D; ++j) {
      double c = 0;
      for (size_t n = 0; n < N; ++n) c += A[n][i] * B[n][j];
      c /= double(N);
      if (i == j)
        on += (1 - c) * (1 - c);
      else
        off += c * c;
    }
  return {scale * (on + lambda * off), on, off};
}

// {loss, invariance, variance, covariance} with weights 25 / 25 / 1.
std::vector<double> vicreg_reference(const torch::Tensor& z1, const torch::Tensor& z2) {
  auto A = to_mat(z1), B = to_mat(z2);
  const size_t N = A.size(), D = A[0].size();
  double inv = 0;
  for (size_t n = 0; n < N; ++n)
    for (size_t d = 0; d < D; ++d) inv += (A[n][d] - B[n][d]) * (A[n][d] - B[n][d]);
  inv /= double(N * D);
  double var = 0, cov = 0;
  for (const Mat* m : {&A, &B}) {
    double v = 0;
    for (size_t d = 0; d < D; ++d) v += std::max(0.0, 1 - std::sqrt(column_var(*m, d, true) + 1e-4));
    var += v / double(D);
    double c = 0;
    for (size_t i = 0; i < D; ++i)
      for (size_t j = 0; j < D; ++j) {
        if (i == j) continue;
        double s = 0;
        const double mi = column_mean(*m, i), mj = column_mean(*m, j);
        for (size_t n = 0; n < N; ++n) s += ((*m)[n][i] - mi) * ((*m)[n][j] - mj);
        s /= double(N - 1);
        c += s * s;
      }
    cov += c / double(D);
  }
  return {25 * inv + 25 * var + cov, inv, var, cov};
}

// Central finite differences of f over every entry of every input (double).
void expect_gradients_match(std::vector<torch::Tensor> inputs, const std::function<torch::Tensor()>& f,
                            double tol = 1e-6) {
  for (auto& x : inputs)
    if (x.grad().defined()) x.mutable_grad().zero_();
  f().backward();
  const double h = 1e-6;
  for (auto& x : inputs) {
    ASSERT_TRUE(x.grad().defined());
    auto g = x.grad().clone().view({-1});
    for (int64_t i = 0; i < x.numel(); ++i) {
      torch::NoGradGuard ng;
      auto flat = x.view({-1});
      const double orig = flat[i].item<double>();
      flat[i] = orig + h;
      const double up = f().item<double>();
      flat[i] = orig - h;
      const double down = f().item<double>();
      flat[i] = orig;
      EXPECT_NEAR(g[i].item<double>(), (up - down) / (2 * h), tol) << "entry " << i;
    }
  }
}

torch::Tensor rand64(std::vector<int64_t> shape, double scale = 1.0) {
  return (torch::randn(shape, torch::kFloat64) * scale).requires_grad_(true);
}

}  // namespace

// ---- BYOL loss ---------------------------------------------------------------

TEST(ByolLoss, MatchesReferenceAndRange) {
  torch::manual_seed(0);
  auto p = torch::randn({7, 5}), z = torch::randn({7, 5});
  EXPECT_NEAR(byol_loss(p, z).item<double>(), byol_reference(p, z), 1e-5);
  EXPECT_NEAR(byol_loss(p, 3 * p).item<double>(), 0.0, 1e-6);   // aligned
  EXPECT_NEAR(byol_loss(p, -p).item<double>(), 4.0, 1e-6);      // opposite
}

TEST(ByolLoss, GradientReachesPredictionOnly) {
  torch::manual_seed(1);
  auto p = rand64({4, 3}), z = rand64({4, 3});
  byol_loss(p, z).backward();
  EXPECT_TRUE(p.grad().defined());
  EXPECT_FALSE(z.grad().defined());  // z is detached inside
  p.mutable_grad().zero_();
  expect_gradients_match({p}, [&] { return byol_loss(p, z); });
}

// ---- NNCLR loss and queue ----------------------------------------------------

TEST(NnclrLoss, MatchesReference) {
  torch::manual_seed(2);
  for (double T : {0.1, 0.2, 1.0}) {
    auto nn = torch::randn({6, 4}), p = torch::randn({6, 4});
    EXPECT_NEAR(nnclr_loss(nn, p, T).item<double>(), nnclr_reference(nn, p, T), 1e-4) << "T=" << T;
  }
}

TEST(NnclrLoss, GradientMatchesFiniteDifferences) {
  torch::manual_seed(3);
  auto nn = rand64({4, 3}), p = rand64({4, 3});
  expect_gradients_match({nn, p}, [&] { return nnclr_loss(nn, p, 0.2); });
}

TEST(NnclrLoss, BadInputsAreErrors) {
  EXPECT_THROW(nnclr_loss(torch::randn({4, 3}), torch::randn({5, 3}), 0.2), gps::Error);
  EXPECT_THROW(nnclr_loss(torch::randn({4, 3}), torch::randn({4, 3}), 0.0), gps::Error);
}

TEST(FeatureQueue, IsFifoAndWrapsAround) {
  FeatureQueue q(6, 2);
  auto batch = [](double v) { return torch::full({2, 2}, v); };
  q->push(batch(1));
  EXPECT_EQ(q->pointer(), 2);
  q->push(batch(2));
  q->push(batch(3));
  EXPECT_EQ(q->pointer(), 0);  // full: wraps
  q->push(batch(4));           // overwrites the oldest rows (batch 1)
  EXPECT_EQ(q->pointer(), 2);
  const std::vector<double> expected = {4, 4, 2, 2, 3, 3};
  for (int64_t r = 0; r < 6; ++r) EXPECT_EQ(q->rows[r][0].item<double>(), expected[r]) << "row " << r;
}

TEST(FeatureQueue, SizeMustBeAMultipleOfTheBatch) {
  FeatureQueue q(6, 2);
  try {
    q->push(torch::zeros({4, 2}));
    FAIL() << "expected an error";
  } catch (const gps::Error& e) {
    EXPECT_NE(std::string(e.what()).find("method.queue_size"), std::string::npos) << e.what();
  }
  EXPECT_THROW(q->push(torch::zeros({2, 3})), gps::Error);
}

TEST(FeatureQueue, NearestIsTheMostSimilarRow) {
  FeatureQueue q(4, 2);
  q->push(torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}, {-1.0f, 0.0f}, {0.6f, 0.8f}}));
  torch::Tensor idx;
  auto nn = q->nearest(torch::tensor({{0.0f, -1.0f}, {0.5f, 0.9f}, {-0.9f, 0.1f}}), &idx);
  // (0,-1): sims 0, -1, 0, -0.8 -> a tie broken towards the first maximum is fine, must be 0 or 2.
  EXPECT_TRUE(idx[0].item<int64_t>() == 0 || idx[0].item<int64_t>() == 2);
  EXPECT_EQ(idx[1].item<int64_t>(), 3);
  EXPECT_EQ(idx[2].item<int64_t>(), 2);
  EXPECT_TRUE(torch::equal(nn[2], q->rows[2]));
  EXPECT_FALSE(nn.requires_grad());
}

// ---- Barlow Twins ------------------------------------------------------------

TEST(BarlowTwinsLoss, MatchesReference) {
  torch::manual_seed(4);
  auto z1 = torch::randn({8, 5}, torch::kFloat64), z2 = torch::randn({8, 5}, torch::kFloat64);
  for (auto [lambda, scale] : std::vector<std::pair<double, double>>{{0.0051, 0.1}, {0.5, 1.0}}) {
    auto r = barlow_twins_loss(z1, z2, lambda, scale);
    auto ref = barlow_reference(z1, z2, lambda, scale);
    EXPECT_NEAR(r.loss.item<double>(), ref[0], 1e-10);
    EXPECT_NEAR(r.on_diag.item<double>(), ref[1], 1e-10);
    EXPECT_NEAR(r.off_diag.item<double>(), ref[2], 1e-10);
  }
}

TEST(BarlowTwinsLoss, ZeroAtIdentityCorrelation) {
  // Orthogonal +-1 columns: standardised they are unchanged and C = I (up to the BN eps).
  auto z = torch::tensor({{1.0, 1.0, 1.0}, {1.0, -1.0, -1.0}, {-1.0, 1.0, -1.0}, {-1.0, -1.0, 1.0}},
                         torch::kFloat64);
  auto r = barlow_twins_loss(z, z * 3 + 2);  // invariant to per-dimension affine maps
  EXPECT_NEAR(r.loss.item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(r.off_diag.item<double>(), 0.0, 1e-12);
  // Anti-correlated views: C = -I, on-diagonal sum 4 per dimension.
  auto anti = barlow_twins_loss(z, -z, 0.0051, 1.0);
  EXPECT_NEAR(anti.on_diag.item<double>(), 3 * 4.0, 1e-3);
}

TEST(BarlowTwinsLoss, GradientMatchesFiniteDifferences) {
  torch::manual_seed(5);
  auto z1 = rand64({6, 3}), z2 = rand64({6, 3});
  expect_gradients_match({z1, z2}, [&] { return barlow_twins_loss(z1, z2, 0.3, 0.5).loss; }, 1e-5);
}

// ---- VICReg ------------------------------------------------------------------

TEST(VICRegLoss, MatchesReference) {
  torch::manual_seed(6);
  auto z1 = torch::randn({8, 5}, torch::kFloat64) * 0.7, z2 = torch::randn({8, 5}, torch::kFloat64) * 1.3;
  auto r = vicreg_loss(z1, z2);
  auto ref = vicreg_reference(z1, z2);
  EXPECT_NEAR(r.loss.item<double>(), ref[0], 1e-10);
  EXPECT_NEAR(r.invariance.item<double>(), ref[1], 1e-12);
  EXPECT_NEAR(r.variance.item<double>(), ref[2], 1e-12);
  EXPECT_NEAR(r.covariance.item<double>(), ref[3], 1e-12);
  EXPECT_GT(r.variance.item<double>(), 0.0);  // some stds are below 1
}

TEST(VICRegLoss, VarianceTermZeroWhenEveryStdAtLeastOne) {
  // +-2 columns: unbiased std = sqrt(16/3) > 1 in every dimension of both views.
  auto z1 = torch::tensor({{2.0, 2.0}, {-2.0, 2.0}, {2.0, -2.0}, {-2.0, -2.0}}, torch::kFloat64);
  auto r = vicreg_loss(z1, z1.flip(0));
  EXPECT_EQ(r.variance.item<double>(), 0.0);
  EXPECT_NEAR(r.covariance.item<double>(), 0.0, 1e-12);  // uncorrelated columns
  auto same = vicreg_loss(z1, z1);
  EXPECT_EQ(same.invariance.item<double>(), 0.0);
  EXPECT_EQ(same.loss.item<double>(), 0.0);
}

TEST(VICRegLoss, GradientMatchesFiniteDifferences) {
  torch::manual_seed(7);
  auto z1 = rand64({6, 3}, 0.5), z2 = rand64({6, 3}, 0.5);  // stds well below 1: hinge active
  expect_gradients_match({z1, z2}, [&] { return vicreg_loss(z1, z2, 2.0, 3.0, 1.5).loss; }, 1e-5);
}

TEST(VICRegLoss, BadShapesAreErrors) {
  EXPECT_THROW(vicreg_loss(torch::randn({1, 3}), torch::randn({1, 3})), gps::Error);
  EXPECT_THROW(barlow_twins_loss(torch::randn({4, 3}), torch::randn({4, 2})), gps::Error);
}

// ---- Methods -----------------------------------------------------------------

namespace {

MethodConfig tiny_method(const std::string& name) {
  MethodConfig m;
  m.name = name;
  m.proj_hidden_dim = 8;
  m.proj_output_dim = 8;
  m.pred_hidden_dim = 8;
  m.queue_size = 8;
  return m;
}

}  // namespace

TEST(Byol, TauScheduleFollowsTheCosine) {
  EXPECT_DOUBLE_EQ(byol_tau(0.99, 0.0), 0.99);
  EXPECT_NEAR(byol_tau(0.99, 0.5), 0.995, 1e-12);
  EXPECT_DOUBLE_EQ(byol_tau(0.99, 1.0), 1.0);
}

TEST(Byol, NoGradientReachesTheTarget) {
  torch::manual_seed(8);
  auto m = std::dynamic_pointer_cast<BYOLImpl>(make_method(tiny_method("byol"), test::tiny_model(), 1));
  ASSERT_TRUE(m);
  auto out = m->training_step(random_views(4));
  out.loss.backward();
  for (auto* target : {static_cast<torch::nn::Module*>(m->target_backbone.ptr().get()),
                       static_cast<torch::nn::Module*>(m->target_projector.ptr().get())})
    for (auto& p : target->parameters()) {
      EXPECT_FALSE(p.requires_grad());
      EXPECT_FALSE(p.grad().defined());
    }
  bool online_has_grad = false;
  for (auto& p : m->predictor->parameters()) online_has_grad |= p.grad().defined();
  EXPECT_TRUE(online_has_grad);
  // Target starts as a copy of the online network.
  auto a = m->backbone_->parameters(), b = m->target_backbone->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}

TEST(Byol, EmaUpdateOnParametersOnly) {
  torch::manual_seed(9);
  auto cfg = tiny_method("byol");
  cfg.tau_base = 0.9;
  auto m = std::dynamic_pointer_cast<BYOLImpl>(make_method(cfg, test::tiny_model(), 1));
  {
    torch::NoGradGuard ng;
    for (auto& p : m->projector->parameters()) p.add_(torch::randn_like(p));
    for (auto& b : m->projector->buffers())
      if (b.is_floating_point()) b.add_(1.0);
  }
  // A forward pass first: it moves the target's own batch-norm statistics.
  auto out = m->training_step(random_views(4));
  std::vector<torch::Tensor> before, online, buffers_before;
  for (auto& p : m->target_projector->parameters()) before.push_back(p.clone());
  for (auto& p : m->projector->parameters()) online.push_back(p.clone());
  for (auto& b : m->target_projector->buffers()) buffers_before.push_back(b.clone());
  m->after_step(0.5);
  EXPECT_NEAR(out.logs["tau"].item<double>(), 0.9, 1e-12);  // the logged rate is the one this update used
  auto after = m->target_projector->parameters();
  for (size_t i = 0; i < after.size(); ++i)
    EXPECT_TRUE(torch::allclose(after[i], 0.9 * before[i] + 0.1 * online[i], 1e-6, 1e-7)) << "param " << i;
  auto buffers = m->target_projector->buffers();
  for (size_t i = 0; i < buffers.size(); ++i) EXPECT_TRUE(torch::equal(buffers[i], buffers_before[i]));
  EXPECT_NEAR(m->tau(), byol_tau(0.9, 0.5), 1e-12);  // the next update uses the new tau
}

TEST(Nnclr, StepPushesNormalisedViewOneAndQueueIsSaved) {
  torch::manual_seed(10);
  auto m = std::dynamic_pointer_cast<NNCLRImpl>(make_method(tiny_method("nnclr"), test::tiny_model(), 1));
  ASSERT_TRUE(m);
  m->training_step(random_views(4));
  EXPECT_EQ(m->queue->pointer(), 4);
  auto norms = m->queue->rows.narrow(0, 0, 4).norm(2, 1);
  EXPECT_TRUE(torch::allclose(norms, torch::ones_like(norms), 1e-5));
  // The queue and its pointer travel with the module's state.
  torch::serialize::OutputArchive out;
  m->save(out);
  std::ostringstream os;
  out.save_to(os);
  auto fresh = std::dynamic_pointer_cast<NNCLRImpl>(make_method(tiny_method("nnclr"), test::tiny_model(), 1));
  torch::serialize::InputArchive in;
  std::istringstream is(os.str());
  in.load_from(is);
  fresh->load(in);
  EXPECT_EQ(fresh->queue->pointer(), 4);
  EXPECT_TRUE(torch::equal(fresh->queue->rows, m->queue->rows));
}

TEST(Methods, EachTrainsTwoStepsWithoutNan) {
  const std::map<std::string, std::vector<std::string>> components = {
      {"simclr", {"nt_xent"}},
      {"byol", {"byol_v1", "byol_v2", "tau"}},
      {"nnclr", {"nnclr", "nn_sim"}},
      {"barlow_twins", {"on_diag", "off_diag"}},
      {"vicreg", {"invariance", "variance", "covariance"}},
      {"mocov3", {"mocov3_v1", "mocov3_v2", "tau"}},
      {"simsiam", {"neg_cos_v1", "neg_cos_v2"}},
      {"dino", {"dino", "teacher_temp", "tau"}},
      {"swav", {"swav", "codes_used"}}};
  for (auto& [name, keys] : components) {
    torch::manual_seed(11);
    Method m = make_method(tiny_method(name), test::tiny_model(), 1);
    EXPECT_EQ(m->name(), name);
    std::vector<torch::Tensor> params;
    for (auto& p : m->parameters())
      if (p.requires_grad()) params.push_back(p);
    LARS opt(params, LARSOptions(0.1).weight_decay(1e-4));
    m->train();
    for (int step = 0; step < 2; ++step) {
      auto out = m->training_step(random_views(4));
      ASSERT_TRUE(std::isfinite(out.loss.item<double>())) << name << " step " << step;
      EXPECT_EQ(out.features1.size(0), 4);
      for (auto& k : keys) EXPECT_TRUE(out.logs.count(k)) << name << " lacks log " << k;
      ASSERT_TRUE(out.logs.count("z_std")) << name;
      EXPECT_TRUE(std::isfinite(out.logs["z_std"].item<double>()));
      opt.zero_grad();
      out.loss.backward();
      opt.step();
      m->after_step((step + 1) / 2.0);
    }
    for (auto& p : m->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>()) << name;
  }
}

TEST(Methods, UnknownNameListsTheChoices) {
  try {
    make_method(tiny_method("moco"), test::tiny_model(), 1);
    FAIL();
  } catch (const gps::Error& e) {
    EXPECT_NE(std::string(e.what()).find("barlow_twins"), std::string::npos);
  }
}

// ---- Configuration and the trainer ----------------------------------------------

TEST(MethodConfigs, ShippedConfigsLoadWithTheirMethod) {
  // The optimiser of each reference recipe (SimSiam's is SGD).
  const std::map<std::string, std::string> optimiser = {{"byol", "lars"},   {"nnclr", "lars"},  {"barlow_twins", "lars"},
                                                        {"vicreg", "lars"}, {"mocov3", "lars"}, {"simsiam", "sgd"},
                                                        {"dino", "lars"},   {"swav", "lars"}};
  for (const auto& [name, optim] : optimiser) {
    const std::string path = std::string(GPS_SOURCE_DIR) + "/configs/fmnist-" + name + "-weak.yaml";
    Config c = load_config(path, {});
    EXPECT_EQ(c.method.name, name) << path;
    EXPECT_EQ(c.optim.name, optim) << path;
  }
}

TEST(MethodConfigs, ChoicesAndRangesAreChecked) {
  Config c;
  for (const std::string& name : test::builtin_methods())
    EXPECT_NO_THROW(c.set("method.name", name));
  EXPECT_NO_THROW(c.set("optim.name", "lars"));
  EXPECT_THROW(c.set("optim.name", "adam"), gps::Error);
  EXPECT_THROW(c.set("method.tau_base", "1.5"), gps::Error);
  EXPECT_THROW(c.set("method.queue_size", "-1"), gps::Error);
  EXPECT_THROW(c.set("optim.eta", "-1"), gps::Error);
  EXPECT_EQ(Config().get("optim.eta"), "0.02");
  EXPECT_EQ(Config().get("method.barlow_lambda"), "0.0051");
  try {
    load_config("", {"method.name=nnclr", "method.queue_size=1000", "optim.batch_size=256"});
    FAIL() << "expected an error";
  } catch (const gps::Error& e) {
    EXPECT_NE(std::string(e.what()).find("method.queue_size"), std::string::npos) << e.what();
  }
}

// Every method runs through the real trainer with LARS, logging its components.
TEST(MethodTraining, EveryMethodTrainsWithLars) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 10);
  for (std::string name : test::builtin_methods()) {
    Config c;
    c.data.root = tmp.file("fm");
    c.model.width = 2;
    c.method = tiny_method(name);
    c.method.queue_size = 60;  // 2 steps of 20 fill rows 0..39
    c.optim.name = "lars";
    c.optim.batch_size = 20;
    c.optim.epochs = 1;
    c.optim.warmup_epochs = 0;
    c.optim.lr = 1.0;
    c.train.out_dir = tmp.file("runs");
    c.train.name = name;
    c.train.threads = 1;
    c.train.progress = false;
    c.train.log_every = 1;
    c.eval.enabled = false;
    auto r = train(c, "test");
    EXPECT_EQ(r.steps, 2) << name;
    EXPECT_TRUE(std::isfinite(r.final_loss)) << name;
    std::ifstream metrics(r.run_dir + "/metrics.jsonl");
    std::string line;
    ASSERT_TRUE(std::getline(metrics, line)) << name;
    EXPECT_TRUE(nlohmann::json::parse(line).contains("z_std")) << name;
    // The checkpoint restores into a fresh method (BYOL target, NNCLR queue included).
    Method fresh = make_method(c.method, c.model, 1);
    EXPECT_NO_THROW(load_method_weights(r.run_dir + "/checkpoint.pt", *fresh)) << name;
    if (name == "nnclr") EXPECT_EQ(std::dynamic_pointer_cast<NNCLRImpl>(fresh)->queue->pointer(), 40);
  }
}

TEST(ProjectFeatures, IsTheProjectorInEvalModeChunkedAndRestoresTrainingMode) {
  for (const std::string name : {"simclr", "byol", "vicreg"}) {
    Method m = make_method(tiny_method(name), test::tiny_model(), 1);
    auto head = m->projector_head();
    m->train();
    // Move the batch-norm running statistics away from their initial values,
    // so that eval mode and train mode give different outputs.
    const auto warm = torch::randn({32, m->backbone()->feature_dim()});
    for (int i = 0; i < 3; ++i) head->forward(warm * 3 + 1);
    const auto feats = torch::randn({10, m->backbone()->feature_dim()});
    const auto whole = project_features(*m, feats);
    const auto chunked = project_features(*m, feats, 3);  // 3 + 3 + 3 + 1 rows
    EXPECT_TRUE(head->is_training()) << name;              // the mode it was in
    head->eval();
    torch::NoGradGuard no_grad;
    const auto expected = head->forward(feats);
    ASSERT_EQ(whole.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::allclose(whole, expected, 1e-5, 1e-6)) << name;
    EXPECT_TRUE(torch::allclose(chunked, expected, 1e-5, 1e-6)) << name;
    EXPECT_FALSE(whole.requires_grad()) << name;
  }
  Method m = make_method(tiny_method("simclr"), test::tiny_model(), 1);
  EXPECT_THROW(project_features(*m, torch::randn({4})), Error);
}
