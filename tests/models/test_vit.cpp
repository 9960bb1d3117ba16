// The ViT backbones: timm's shapes and parameter names, one block against
// attention written out in float64, position embeddings interpolated for
// local crops, and every method training on vit_tiny with AdamW and the
// weight-decay schedule, and export (TorchScript, timm-named tensors).
#include "gps/core/check.h"
#include "gps/methods/method.h"
#include "gps/models/export.h"
#include "gps/models/vit.h"
#include "gps/train/train_state.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <cmath>
#include <fstream>

using namespace gps;
using ::testing::HasSubstr;

namespace {

ModelConfig vit(const std::string& arch, int64_t patch, int64_t image) {
  ModelConfig m;
  m.arch = arch;
  m.patch_size = patch;
  m.image_size = image;
  return m;
}

std::shared_ptr<VisionTransformerImpl> make_vit(const ModelConfig& m, int64_t in_channels) {
  auto b = make_backbone(m, in_channels);
  auto v = std::dynamic_pointer_cast<VisionTransformerImpl>(b.ptr());
  EXPECT_TRUE(v);
  return v;
}

// Parameters of timm's VisionTransformer (class token, no qk-norm, biases on).
int64_t timm_parameter_count(int64_t C, int64_t p, int64_t grid, int64_t D, int64_t depth) {
  const int64_t block = 2 * D + (3 * D * D + 3 * D) + (D * D + D) + 2 * D + (4 * D * D + 4 * D) + (4 * D * D + D);
  return (C * p * p * D + D) + D + (1 + grid * grid) * D + depth * block + 2 * D;
}

}  // namespace

TEST(Vit, ShapesAndNamesAreTimms) {
  torch::manual_seed(0);
  for (const auto& [arch, D] : std::vector<std::pair<std::string, int64_t>>{{"vit_tiny", 192}, {"vit_small", 384}}) {
    auto v = make_vit(vit(arch, 4, 32), 3);
    EXPECT_EQ(v->feature_dim(), D);
    EXPECT_EQ(v->name(), arch);
    int64_t count = 0;
    for (const auto& p : v->parameters()) count += p.numel();
    EXPECT_EQ(count, timm_parameter_count(3, 4, 8, D, 12)) << arch;
    const auto names = v->named_parameters().keys();
    for (const std::string n : {"cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
                                "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.proj.bias",
                                "blocks.11.mlp.fc1.weight", "blocks.11.mlp.fc2.bias", "norm.weight"})
      EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << arch << " lacks " << n;
    v->eval();
    EXPECT_EQ(v->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, D}));
  }
  EXPECT_EQ(vit_shape("vit_small").heads, 6);
  EXPECT_THAT(test::error_of([] { vit_shape("vit_huge"); }), HasSubstr("vit_tiny or vit_small"));
  EXPECT_THAT(test::error_of([] { make_backbone(vit("vit_tiny", 5, 28), 1); }),
              HasSubstr("model.image_size (28) must be a positive multiple of model.patch_size (5)"));
  EXPECT_THAT(test::error_of([] { make_backbone(vit("vit_tiny", 4, 28), 1)->forward(torch::randn({1, 1, 30, 30})); }),
              HasSubstr("multiples of model.patch_size (4)"));
}

// One block against pre-norm attention and MLP written out in float64:
// x + proj(softmax(q k^T / sqrt(d)) v), then + fc2(gelu(fc1(LN(.)))).
TEST(Vit, BlockMatchesAttentionWrittenOut) {
  torch::manual_seed(1);
  const int64_t D = 12, H = 3, T = 5, B = 2, d = D / H;
  VitBlock block(D, H, 4);
  block->to(torch::kFloat64);
  const auto x = torch::randn({B, T, D}, torch::kFloat64);
  auto ln = [](const torch::Tensor& y, const torch::nn::LayerNorm& n) {
    const auto mu = y.mean(-1, true), var = (y - mu).square().mean(-1, true);
    return (y - mu) / (var + 1e-6).sqrt() * n->weight + n->bias;
  };
  auto lin = [](const torch::Tensor& y, const torch::nn::Linear& l) { return y.matmul(l->weight.t()) + l->bias; };
  const auto qkv = lin(ln(x, block->norm1), block->qkv).reshape({B, T, 3, H, d});
  std::vector<torch::Tensor> heads;
  for (int64_t h = 0; h < H; ++h) {
    const auto q = qkv.select(2, 0).select(2, h), k = qkv.select(2, 1).select(2, h), v = qkv.select(2, 2).select(2, h);
    auto s = q.matmul(k.transpose(1, 2)) / std::sqrt(double(d));
    s = (s - std::get<0>(s.max(-1, true))).exp();
    heads.push_back((s / s.sum(-1, true)).matmul(v));
  }
  const auto y = x + lin(torch::cat(heads, -1), block->proj);
  const auto h1 = lin(ln(y, block->norm2), block->fc1);
  const auto gelu = 0.5 * h1 * (1 + torch::erf(h1 / std::sqrt(2.0)));
  const auto want = y + lin(gelu, block->fc2);
  EXPECT_LT((block->forward(x) - want).abs().max().item<double>(), 1e-9);
}

TEST(Vit, PositionEmbeddingsInterpolateForLocalCrops) {
  torch::manual_seed(2);
  auto v = make_vit(vit("vit_tiny", 4, 28), 1);
  EXPECT_TRUE(torch::equal(v->position_embedding(7, 7), v->pos_embed));
  const auto local = v->position_embedding(3, 3);
  EXPECT_EQ(local.sizes(), (std::vector<int64_t>{1, 10, 192}));
  EXPECT_TRUE(torch::equal(local.slice(1, 0, 1), v->pos_embed.slice(1, 0, 1)));  // the class token's is kept
  {  // bicubic interpolation keeps a constant grid constant
    torch::NoGradGuard no_grad;
    v->pos_embed.slice(1, 1).fill_(0.25);
  }
  EXPECT_LT((v->position_embedding(3, 3).slice(1, 1) - 0.25).abs().max().item<double>(), 1e-6);
  v->eval();
  EXPECT_EQ(v->forward(torch::randn({2, 1, 12, 12})).sizes(), (std::vector<int64_t>{2, 192}));
  // The gradient reaches the position embeddings through the interpolation.
  v->train();
  v->forward(torch::randn({2, 1, 12, 12})).sum().backward();
  EXPECT_GT(v->pos_embed.grad().abs().sum().item<double>(), 0.0);
}

TEST(Vit, AdamWWeightDecayFollowsItsSchedule) {
  Config c;
  c.model = vit("vit_tiny", 4, 12);
  c.optim.name = "adamw";
  c.optim.weight_decay = 0.04;
  TrainState s = make_train_state(c, 1, 0, torch::kCPU);
  auto& groups = s.optimizer->param_groups();
  ASSERT_EQ(s.group_names[0], "weights");
  auto wd = [&](size_t g) { return static_cast<torch::optim::AdamWOptions&>(groups[g].options()).weight_decay(); };
  EXPECT_EQ(wd(0), 0.04);
  EXPECT_EQ(wd(1), 0.0);  // biases and norms
  s.set_schedule_weight_decay(0.4);
  EXPECT_EQ(wd(0), 0.4);
  EXPECT_EQ(wd(1), 0.0);
}

// Every method trains on vit_tiny (patch 4, 12 px views) with AdamW and
// DINO's weight-decay schedule; DINO and SwAV with 6 px local crops.
TEST(Vit, EveryMethodTrainsOnVitTinyWithAdamW) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 10);
  for (const std::string& name : method_names()) {
    Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
    c.model = vit("vit_tiny", 4, 12);
    c.method.name = name;
    c.method.pred_hidden_dim = 16;
    c.method.num_prototypes = 32;
    c.method.queue_size = 40;
    c.augment.crop_size = 12;
    if (name == "dino" || name == "swav") c.augment.local_crops = 2, c.augment.local_size = 8;
    c.optim.name = "adamw";
    c.optim.lr = 5e-4;
    c.optim.weight_decay = 0.04;
    c.optim.weight_decay_end = 0.4;
    c.eval.enabled = false;
    c.train.name = name;
    const auto r = train(c, "test");
    EXPECT_TRUE(std::isfinite(r.final_loss)) << name;
    for (const auto& w : test::weights_of(c, r.run_dir)) EXPECT_TRUE(torch::isfinite(w).all().item<bool>()) << name;
  }
}

// Export: the TorchScript module equals the C++ one at the trained size and
// at a local-crop size (interpolated position embeddings), and timm-named
// tensors round-trip through backbone_state / load_backbone_state.
TEST(Vit, TorchScriptExportAndTimmNamedStateRoundTrip) {
  torch::manual_seed(5);
  const ModelConfig m = vit("vit_tiny", 4, 28);
  auto net = make_backbone(m, 1);
  net->eval();
  test::TempDir tmp;
  save_backbone_torchscript(net, m, 1, tmp.file("b.pt"));
  auto scripted = torch::jit::load(tmp.file("b.pt"));
  torch::NoGradGuard no_grad;
  for (int64_t size : {28, 12}) {
    const auto x = torch::randn({3, 1, size, size});
    const auto want = net->forward(x), got = scripted.forward({x}).toTensor();
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-4) << size;
  }
  const auto state = backbone_state(net);
  EXPECT_TRUE(state.count("blocks.3.attn.qkv.weight") && state.count("pos_embed"));
  auto other = make_backbone(m, 1);
  EXPECT_THAT(load_backbone_state(other, state, "test.npz"), HasSubstr("loaded"));
  other->eval();
  const auto x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(other->forward(x), net->forward(x)));
  // An RGB patch embedding starts a gray ViT (its input channels summed).
  auto rgb = make_backbone(m, 3);
  auto gray = make_backbone(m, 1);
  load_backbone_state(gray, backbone_state(rgb), "rgb.npz");
  EXPECT_TRUE(torch::allclose(gray->named_parameters()["patch_embed.proj.weight"],
                              rgb->named_parameters()["patch_embed.proj.weight"].sum(1, true)));
  auto wrong = backbone_state(net);
  wrong.erase("norm.bias");
  EXPECT_THAT(test::error_of([&] { load_backbone_state(other, wrong, "w.npz"); }),
              HasSubstr("no tensor 'norm.bias' (expected timm ViT names)"));
}
