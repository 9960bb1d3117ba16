// torchvision-style ResNet-18 / ResNet-50 backbone (classifier removed), with a width
// multiplier and the small-image stem used for 28/32 px data.
#pragma once

#include "gps/models/model_config.h"

#include <torch/torch.h>

namespace gps {

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // 1x1 conv + BN when shape changes
};
TORCH_MODULE(BasicBlock);

// ResNet-50's bottleneck: 1x1 (width) - 3x3 (width, stride) - 1x1 (4 x width),
// stride on the 3x3 conv as in torchvision ("v1.5").
struct BottleneckImpl : torch::nn::Module {
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in, int64_t width, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

struct ResNetImpl : torch::nn::Module {
  // arch: "resnet18" (basic blocks [2,2,2,2]) or "resnet50" (bottlenecks
  // [3,4,6,3]). in_channels: 1 or 3. width: channels of stage 1 (64 =
  // torchvision); stages have width * {1, 2, 4, 8} (x4 at the output of
  // bottlenecks). small_stem: conv3x3 stride 1 with `stem_padding`, no
  // max-pool; otherwise conv7x7 stride 2 + max-pool.
  ResNetImpl(int64_t in_channels, int64_t width, bool small_stem, int64_t stem_padding = 2,
             const std::string& arch = "resnet18");

  // x: [B, in_channels, H, W] float32 -> features [B, feature_dim()] (after
  // global average pooling).
  torch::Tensor forward(const torch::Tensor& x);
  int64_t feature_dim() const { return feature_dim_; }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};

 private:
  bool small_stem_;
  int64_t feature_dim_;
};
TORCH_MODULE(ResNet);

// The backbone named by cfg.arch for images with `in_channels` channels.
ResNet make_backbone(const ModelConfig& cfg, int64_t in_channels);

}  // namespace gps
