// SwAV with multi-crop: Sinkhorn-Knopp and the swapped-prediction loss
// against the paper's pseudo-code (float64, value and gradient), the
// prototypes frozen in epoch 0, the queue, and Proposition 1 with local
// views (a self table trains plain SwAV, bit for bit).
#include "gps/core/check.h"
#include "gps/methods/losses.h"
#include "gps/methods/swav.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

using namespace gps;
using ::testing::HasSubstr;

namespace {

// SwAV, Algorithm 1 (Caron et al. 2020), written out with elementary ops:
//   Q = exp(scores / eps).T; Q /= sum(Q); K, B = Q.shape
//   for it in range(iters): Q /= sum(Q, dim=1, keepdim) * K; Q /= sum(Q, dim=0, keepdim) * B
//   return (Q * B).T
torch::Tensor sinkhorn_reference(const torch::Tensor& scores, double eps, int iters) {
  auto Q = (scores / eps).exp().t().clone();
  Q = Q / Q.sum();
  const double K = double(Q.size(0)), B = double(Q.size(1));
  for (int it = 0; it < iters; ++it) {
    Q = Q / (Q.sum(1, true) * K);
    Q = Q / (Q.sum(0, true) * B);
  }
  return (Q * B).t();
}

// Eq. (1) with multi-crop, as SwAV's code sums it: for each global view g
// and every other view v, -mean_b sum_k q_g log softmax(z_v c / T), averaged over the pairs.
torch::Tensor swav_reference(const std::vector<torch::Tensor>& p, const std::vector<torch::Tensor>& q, double T) {
  torch::Tensor total = torch::zeros({}, torch::kFloat64);
  int terms = 0;
  for (size_t g = 0; g < q.size(); ++g)
    for (size_t v = 0; v < p.size(); ++v) {
      if (v == g) continue;
      const auto x = p[v] / T;
      const auto log_softmax = x - (x.exp().sum(1, true)).log();
      total = total - (q[g].detach() * log_softmax).sum(1).mean();
      ++terms;
    }
  return total / terms;
}

MethodConfig tiny() {
  MethodConfig m;
  m.name = "swav";
  m.proj_hidden_dim = 8;
  m.proj_output_dim = 4;
  m.num_prototypes = 16;
  m.temperature = 0.1;
  m.queue_size = 8;
  m.epoch_queue_starts = 1;
  return m;
}

}  // namespace

TEST(SinkhornKnopp, MatchesThePapersPseudoCode) {
  torch::manual_seed(1);
  const auto scores = torch::rand({6, 5}, torch::kFloat64) * 2 - 1;  // cosines
  for (int iters : {1, 3, 10}) {
    const auto got = sinkhorn_knopp(scores, 0.05, iters), want = sinkhorn_reference(scores, 0.05, iters);
    EXPECT_EQ(got.scalar_type(), torch::kFloat64);
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-9) << iters;
    // Each sample's code sums to 1 after the last column normalisation.
    EXPECT_LT((got.sum(1) - 1).abs().max().item<double>(), 1e-12);
  }
  // With many iterations the prototypes are used equally: B / K each.
  const auto q = sinkhorn_knopp(scores, 0.5, 200);
  EXPECT_LT((q.sum(0) - 6.0 / 5.0).abs().max().item<double>(), 1e-9);
  // Scores whose exp overflows at eps = 0.05 give the same codes (the max is
  // subtracted; a constant shift cancels in the first normalisation).
  const auto shifted = sinkhorn_knopp(scores + 50, 0.05, 3);
  EXPECT_TRUE(torch::isfinite(shifted).all().item<bool>());
  EXPECT_LT((shifted - sinkhorn_reference(scores, 0.05, 3)).abs().max().item<double>(), 1e-9);
  EXPECT_THROW(sinkhorn_knopp(scores, 0.0, 3), gps::Error);
  EXPECT_THROW(sinkhorn_knopp(scores.flatten(), 0.05, 3), gps::Error);
}

TEST(SwavLoss, MatchesThePapersPseudoCodeWithLocalViews) {
  torch::manual_seed(2);
  const int64_t B = 5, K = 7;
  std::vector<torch::Tensor> p, p_ref, q;
  for (int v = 0; v < 4; ++v) {  // 2 global + 2 local views
    auto x = torch::rand({B, K}, torch::kFloat64) * 2 - 1;
    p.push_back(x.clone().requires_grad_(true));
    p_ref.push_back(x.clone().requires_grad_(true));
  }
  for (int g = 0; g < 2; ++g) q.push_back(sinkhorn_reference(p[g].detach(), 0.05, 3));
  auto got = swav_loss(p, q, 0.1), want = swav_reference(p_ref, q, 0.1);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-9);
  got.backward();
  want.backward();
  for (size_t v = 0; v < p.size(); ++v) EXPECT_LT((p[v].grad() - p_ref[v].grad()).abs().max().item<double>(), 1e-9);
  EXPECT_THROW(swav_loss({p[0]}, {q[0]}, 0.1), gps::Error);
  EXPECT_THROW(swav_loss(p, q, 0.0), gps::Error);
}

TEST(Swav, AStepFreezesPrototypesInEpochZeroAndFillsTheQueue) {
  torch::manual_seed(3);
  auto m = std::dynamic_pointer_cast<SwAVImpl>(make_method(tiny(), test::tiny_model(), 1));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->reads_local_views());
  m->train();
  auto views = [] {
    return Views{{torch::randn({4, 1, 12, 12}), ViewOf::anchor},
                 {torch::randn({4, 1, 12, 12}), ViewOf::positive},
                 {torch::randn({4, 1, 6, 6}), ViewOf::anchor},
                 {torch::randn({4, 1, 6, 6}), ViewOf::positive}};
  };
  ASSERT_EQ(m->queue.sizes(), (std::vector<int64_t>{2, 8, 4}));
  m->on_epoch_start(0);
  auto out = m->training_step(views());
  ASSERT_TRUE(std::isfinite(out.loss.item<double>()));
  EXPECT_EQ(out.features1.size(0), 4);
  EXPECT_TRUE(out.logs.count("swav") && out.logs.count("codes_used") && out.logs.count("z_std"));
  out.loss.backward();
  EXPECT_FALSE(m->prototypes.grad().defined());  // method.freeze_last_layer = 1
  // The newest rows come first: unit projections in rows 0..3, zeros behind.
  EXPECT_NEAR(m->queue.slice(1, 0, 4).square().sum(2).sqrt().min().item<double>(), 1.0, 1e-5);
  EXPECT_EQ(m->queue.slice(1, 4).abs().sum().item<double>(), 0.0);
  const auto first = m->queue.slice(1, 0, 4).clone();
  m->on_epoch_start(1);  // the prototypes train, and the queue joins the codes
  m->zero_grad();
  m->training_step(views()).loss.backward();
  EXPECT_TRUE(m->prototypes.grad().defined());
  EXPECT_TRUE(torch::equal(m->queue.slice(1, 4), first));  // shifted back by one batch
}

TEST(Swav, TheQueueChangesTheCodesFromEpochQueueStarts) {
  torch::manual_seed(4);
  MethodConfig c = tiny();
  c.epoch_queue_starts = 1;
  auto with = std::dynamic_pointer_cast<SwAVImpl>(make_method(c, test::tiny_model(), 1));
  torch::manual_seed(4);
  c.queue_size = 0;
  auto without = std::dynamic_pointer_cast<SwAVImpl>(make_method(c, test::tiny_model(), 1));
  EXPECT_FALSE(without->queue.defined());
  with->train();
  without->train();
  torch::manual_seed(5);
  const Views v = {{torch::randn({4, 1, 8, 8}), ViewOf::anchor}, {torch::randn({4, 1, 8, 8}), ViewOf::positive}};
  with->queue.normal_();  // rows the codes would see
  with->on_epoch_start(0);
  without->on_epoch_start(0);
  EXPECT_DOUBLE_EQ(with->training_step(v).loss.item<double>(), without->training_step(v).loss.item<double>());
  with->on_epoch_start(1);
  without->on_epoch_start(1);
  EXPECT_NE(with->training_step(v).loss.item<double>(), without->training_step(v).loss.item<double>());
}

// Proposition 1 with multi-crop: GPS with a self table (k = 1) gives every
// view the anchor's image, so GPS-SwAV is plain SwAV, bit for bit.
TEST(Swav, SelfTableWithLocalViewsIsPlainSwavBitForBit) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
  c.method = tiny();
  c.method.queue_size = 40;  // the queue joins the codes in epoch 1
  c.augment.preset = "strong";
  c.augment.local_crops = 2;
  test::expect_self_table_is_plain(c);
}

TEST(Swav, AQueueSmallerThanTheBatchIsRefused) {
  EXPECT_THAT(test::error_of([] {
                load_config("", {"method.name=swav", "method.queue_size=100", "optim.batch_size=256"});
              }),
              HasSubstr("method.queue_size (100) must be 0 (no queue) or at least optim.batch_size (256)"));
  EXPECT_NO_THROW(load_config("", {"method.name=swav", "method.queue_size=0", "optim.batch_size=256"}));
}
