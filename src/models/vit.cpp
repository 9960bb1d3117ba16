#include "gps/models/vit.h"

#include "gps/core/check.h"

#include <cmath>

namespace gps {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

// timm's trunc_normal_(std=0.02), cut at +-2 (100 standard deviations: a
// plain normal in practice, as DINO notes).
void trunc_normal(torch::Tensor& t) {
  torch::NoGradGuard no_grad;
  t.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
}

nn::LayerNorm layer_norm(int64_t dim) { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6)); }

}  // namespace

VitShape vit_shape(const std::string& arch) {
  if (arch == "vit_tiny") return {192, 12, 3, 4};
  if (arch == "vit_small") return {384, 12, 6, 4};
  GPS_FAIL("model.arch: '", arch, "' is not a ViT (expected vit_tiny or vit_small)");
}

VitBlockImpl::VitBlockImpl(int64_t dim, int64_t heads_n, int64_t mlp_ratio) : heads(heads_n) {
  GPS_CHECK(heads_n > 0 && dim % heads_n == 0, "vit: width ", dim, " is not a multiple of ", heads_n, " heads");
  // Holder modules give timm's names: blocks.N.attn.qkv.weight, blocks.N.mlp.fc1.weight.
  auto attn = register_module("attn", std::make_shared<nn::Module>());
  auto mlp = register_module("mlp", std::make_shared<nn::Module>());
  norm1 = register_module("norm1", layer_norm(dim));
  qkv = attn->register_module("qkv", nn::Linear(dim, 3 * dim));
  proj = attn->register_module("proj", nn::Linear(dim, dim));
  norm2 = register_module("norm2", layer_norm(dim));
  fc1 = mlp->register_module("fc1", nn::Linear(dim, mlp_ratio * dim));
  fc2 = mlp->register_module("fc2", nn::Linear(mlp_ratio * dim, dim));
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  // [B, T, 3, heads, D/heads] -> q, k, v [B, heads, T, D/heads]
  auto qkv_ = qkv(norm1(x)).reshape({B, T, 3, heads, D / heads}).permute({2, 0, 3, 1, 4});
  auto a = at::scaled_dot_product_attention(qkv_[0], qkv_[1], qkv_[2]);
  auto y = x + proj(a.transpose(1, 2).reshape({B, T, D}));
  return y + fc2(F::gelu(fc1(norm2(y))));
}

VisionTransformerImpl::VisionTransformerImpl(int64_t in_channels, const VitShape& shape, int64_t patch_size,
                                             int64_t image_size, const std::string& arch)
    : arch_(arch), shape_(shape), patch_(patch_size), grid_(image_size / std::max<int64_t>(patch_size, 1)) {
  GPS_CHECK(patch_size > 0 && image_size >= patch_size && image_size % patch_size == 0, "model.image_size (",
            image_size, ") must be a positive multiple of model.patch_size (", patch_size, ") for ", arch);
  GPS_CHECK(in_channels > 0, arch, ": in_channels must be positive, got ", in_channels);
  const int64_t D = shape.dim;
  patch_embed = register_module("patch_embed", std::make_shared<nn::Module>())
                    ->register_module("proj", nn::Conv2d(nn::Conv2dOptions(in_channels, D, patch_size).stride(patch_size)));
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, D}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, 1 + grid_ * grid_, D}));
  blocks = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < shape.depth; ++i) blocks->push_back(VitBlock(D, shape.heads, shape.mlp_ratio));
  norm = register_module("norm", layer_norm(D));
  // timm / DINO: position embeddings and class token trunc_normal(0.02);
  // Linear weights trunc_normal(0.02) with zero bias; LayerNorm 1 and 0;
  // the patch embedding keeps the conv's default.
  trunc_normal(pos_embed);
  trunc_normal(cls_token);
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false))
    if (auto* l = m->as<nn::Linear>()) {
      trunc_normal(l->weight);
      l->bias.zero_();
    }
}

torch::Tensor VisionTransformerImpl::position_embedding(int64_t gh, int64_t gw) const {
  if (gh == grid_ && gw == grid_) return pos_embed;
  const int64_t D = shape_.dim;
  auto grid = pos_embed.slice(1, 1).reshape({1, grid_, grid_, D}).permute({0, 3, 1, 2});
  grid = F::interpolate(grid, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{gh, gw})
                                  .mode(torch::kBicubic)
                                  .align_corners(false));
  return torch::cat({pos_embed.slice(1, 0, 1), grid.permute({0, 2, 3, 1}).reshape({1, gh * gw, D})}, 1);
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& x) {
  GPS_CHECK(x.dim() == 4 && x.size(2) % patch_ == 0 && x.size(3) % patch_ == 0, arch_, ": images must be [B, C, H, W] "
            "with H and W multiples of model.patch_size (", patch_, "), got ", x.sizes());
  auto t = patch_embed(x);  // [B, D, gh, gw]
  const int64_t B = t.size(0), gh = t.size(2), gw = t.size(3);
  t = t.flatten(2).transpose(1, 2);  // [B, gh gw, D]
  t = torch::cat({cls_token.expand({B, -1, -1}).to(t.scalar_type()), t}, 1);
  t = t + position_embedding(gh, gw).to(t.scalar_type());
  for (auto& b : *blocks) t = b->as<VitBlock>()->forward(t);
  return norm(t.select(1, 0));
}

}  // namespace gps
