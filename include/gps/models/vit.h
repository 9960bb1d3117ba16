// Vision Transformer backbone (Dosovitskiy et al. 2021) as timm and DINO
// build it: a patch embedding (a conv of kernel and stride patch_size), a
// class token, learned position embeddings, pre-norm blocks (LayerNorm,
// multi-head self-attention, LayerNorm, GELU MLP of 4x width), a final
// LayerNorm; the features are the class token's output. Registered as
// model.arch = vit_tiny (width 192, 3 heads) | vit_small (384, 6 heads),
// 12 blocks each. Position embeddings are made for model.image_size and
// bicubically interpolated for other sizes (local crops), as DINO's
// interpolate_pos_encoding. Parameter names are timm's
// (blocks.0.attn.qkv.weight, ...), so export.h writes and reads them as they are.
#pragma once

#include "gps/models/backbone.h"

#include <torch/torch.h>

namespace gps {

struct VitShape {
  int64_t dim = 192;    // token width
  int64_t depth = 12;   // blocks
  int64_t heads = 3;    // attention heads (dim % heads == 0)
  int64_t mlp_ratio = 4;
};

// The shape of model.arch vit_tiny or vit_small; throws gps::Error otherwise.
VitShape vit_shape(const std::string& arch);

struct VitBlockImpl : torch::nn::Module {
  VitBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, dim] -> [B, T, dim]

  int64_t heads;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VitBlock);

struct VisionTransformerImpl : BackboneImpl {
  // arch: the name reported (vit_tiny, vit_small); the shape from `shape`.
  VisionTransformerImpl(int64_t in_channels, const VitShape& shape, int64_t patch_size, int64_t image_size,
                        const std::string& arch);

  // x: [B, in_channels, H, W], H and W multiples of patch_size -> the class
  // token's features [B, dim].
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t feature_dim() const override { return shape_.dim; }
  std::string name() const override { return arch_; }
  int64_t patch_size() const { return patch_; }
  int64_t grid() const { return grid_; }  // patches per side at model.image_size
  const VitShape& shape() const { return shape_; }

  // The position embeddings for a grid of gh x gw patches: [1, 1 + gh gw, dim].
  torch::Tensor position_embedding(int64_t gh, int64_t gw) const;

  torch::nn::Conv2d patch_embed{nullptr};  // named patch_embed.proj
  torch::Tensor cls_token;  // [1, 1, dim]
  torch::Tensor pos_embed;  // [1, 1 + g * g, dim], g = image_size / patch_size
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  std::string arch_;
  VitShape shape_;
  int64_t patch_, grid_;
};
TORCH_MODULE(VisionTransformer);

}  // namespace gps
