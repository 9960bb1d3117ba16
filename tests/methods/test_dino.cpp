// DINO with multi-crop: the loss against the paper's pseudo-code (float64,
// value and gradient), the teacher temperature, the head, the centre, and
// Proposition 1 with local views (a self table trains plain DINO, bit for bit).
#include "gps/core/check.h"
#include "gps/methods/dino.h"
#include "gps/methods/losses.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

using namespace gps;
using ::testing::HasSubstr;

namespace {

// DINO, Algorithm 1 (multi-crop as in its code), from elementary operations:
// H(t, s) = -sum_p softmax((t - C) / tpt)_p * log softmax(s / tps)_p, averaged
// over rows, over the pairs of a teacher (global) view and another student view.
torch::Tensor dino_reference(const std::vector<torch::Tensor>& s, const std::vector<torch::Tensor>& t,
                             const torch::Tensor& C, double tps, double tpt) {
  auto softmax = [](const torch::Tensor& x) {
    auto e = (x - std::get<0>(x.max(1, true))).exp();
    return e / e.sum(1, true);
  };
  torch::Tensor total = torch::zeros({}, torch::kFloat64);
  int terms = 0;
  for (size_t g = 0; g < t.size(); ++g)
    for (size_t v = 0; v < s.size(); ++v) {
      if (v == g) continue;
      const auto target = softmax((t[g].detach() - C) / tpt);
      total = total - (target * softmax(s[v] / tps).log()).sum(1).mean();
      ++terms;
    }
  return total / terms;
}

MethodConfig tiny() {
  MethodConfig m;
  m.name = "dino";
  m.proj_hidden_dim = 8;
  m.proj_output_dim = 4;
  m.num_prototypes = 16;
  return m;
}

}  // namespace

TEST(DinoLoss, MatchesThePapersPseudoCodeWithLocalViews) {
  torch::manual_seed(1);
  const int64_t B = 5, P = 7;
  std::vector<torch::Tensor> s, s_ref, t;
  for (int v = 0; v < 4; ++v) {  // 2 global + 2 local student views
    auto x = torch::randn({B, P}, torch::kFloat64);
    s.push_back(x.clone().requires_grad_(true));
    s_ref.push_back(x.clone().requires_grad_(true));
  }
  for (int g = 0; g < 2; ++g) t.push_back(torch::randn({B, P}, torch::kFloat64).requires_grad_(true));
  const auto C = torch::randn({1, P}, torch::kFloat64) * 0.1;
  for (double tpt : {0.04, 0.07}) {
    auto got = dino_loss(s, t, C, 0.1, tpt), want = dino_reference(s_ref, t, C, 0.1, tpt);
    EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-9);
    for (auto& x : s) x.mutable_grad() = torch::Tensor();
    for (auto& x : s_ref) x.mutable_grad() = torch::Tensor();
    got.backward();
    want.backward();
    for (size_t v = 0; v < s.size(); ++v) EXPECT_LT((s[v].grad() - s_ref[v].grad()).abs().max().item<double>(), 1e-9);
    for (auto& x : t) EXPECT_FALSE(x.grad().defined());  // the teacher gets no gradient
  }
  EXPECT_THROW(dino_loss({s[0]}, {t[0]}, C, 0.1, 0.04), gps::Error);
}

TEST(DinoLoss, TeacherTemperatureWarmsUpLikeNpLinspace) {
  // np.linspace(0.04, 0.07, 4) = 0.04, 0.05, 0.06, 0.07, then 0.07.
  for (int64_t e = 0; e < 6; ++e)
    EXPECT_NEAR(dino_teacher_temp(0.04, 0.07, 4, e), e < 4 ? 0.04 + 0.01 * double(e) : 0.07, 1e-15) << e;
  EXPECT_EQ(dino_teacher_temp(0.04, 0.07, 0, 0), 0.07);  // solo-learn's default: no warm-up
  EXPECT_EQ(dino_teacher_temp(0.04, 0.07, 1, 0), 0.04);
}

TEST(Dino, HeadPrototypesAreUnitRowsAndFreezeForTheFirstEpochs) {
  torch::manual_seed(2);
  DinoHead head(6, 8, 4, 16);
  const auto x = torch::randn({3, 6});
  const auto logits = head->forward(x);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_LE(logits.abs().max().item<double>(), 1.0 + 1e-6);  // cosines of unit vectors
  head->forward(x, /*frozen=*/true).sum().backward();
  EXPECT_FALSE(head->prototypes.grad().defined());
  head->forward(x).sum().backward();
  EXPECT_TRUE(head->prototypes.grad().defined());
  // method.use_bn_in_head: a BN after each hidden Linear (DINO's flag).
  EXPECT_EQ(DinoHead(6, 8, 4, 16)->mlp->size(), 5u);
  EXPECT_EQ(DinoHead(6, 8, 4, 16, /*bn=*/true)->mlp->size(), 7u);
}

TEST(Dino, AMultiCropStepMovesTheCentreAndFreezesPrototypesInEpochZero) {
  torch::manual_seed(3);
  auto m = std::dynamic_pointer_cast<DINOImpl>(make_method(tiny(), test::tiny_model(), 1));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->reads_local_views());
  m->train();
  const Views views = {{torch::randn({4, 1, 12, 12}), ViewOf::anchor},
                       {torch::randn({4, 1, 12, 12}), ViewOf::positive},
                       {torch::randn({4, 1, 6, 6}), ViewOf::anchor},
                       {torch::randn({4, 1, 6, 6}), ViewOf::positive}};
  m->on_epoch_start(0);
  auto out = m->training_step(views);
  ASSERT_TRUE(std::isfinite(out.loss.item<double>()));
  EXPECT_EQ(out.features1.size(0), 4);
  EXPECT_GT(m->center.abs().sum().item<double>(), 0.0);  // 0.1 x the teacher's mean
  out.loss.backward();
  EXPECT_FALSE(m->head->prototypes.grad().defined());  // method.freeze_last_layer = 1
  m->on_epoch_start(1);
  m->zero_grad();
  m->training_step(views).loss.backward();
  EXPECT_TRUE(m->head->prototypes.grad().defined());
  for (auto& p : m->teacher_backbone->parameters()) EXPECT_FALSE(p.grad().defined());
}

// Proposition 1 with multi-crop: GPS with a self table (k = 1) gives every
// view the anchor's image, so GPS-DINO is plain DINO, bit for bit.
TEST(Dino, SelfTableWithLocalViewsIsPlainDinoBitForBit) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
  c.method = tiny();
  c.augment.preset = "strong";
  c.augment.local_crops = 2;
  test::expect_self_table_is_plain(c);
}

TEST(Dino, TwoViewMethodsRefuseLocalViews) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.augment.preset = "strong";
  c.augment.local_crops = 2;
  EXPECT_THAT(test::error_of([&] { train(c, "test"); }),
              HasSubstr("augment.local_crops = 2: method simclr reads two views"));
}
