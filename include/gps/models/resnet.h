// torchvision-style ResNet-18 / ResNet-50 backbone (classifier removed), with a width
// multiplier and the small-image stem used for 28/32 px data. One
// implementation of the Backbone interface (backbone.h), registered as
// model.arch = resnet18 | resnet50; export.h reads and writes its weights
// under torchvision's names.
#pragma once

#include "gps/models/backbone.h"

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

struct ResNetImpl : BackboneImpl {
  // arch: "resnet18" (basic blocks [2,2,2,2]) or "resnet50" (bottlenecks
  // [3,4,6,3]). in_channels: 1 or 3. width: channels of stage 1 (64 =
  // torchvision); stages have width * {1, 2, 4, 8} (x4 at the output of
  // bottlenecks). small_stem: conv3x3 stride 1 with `stem_padding`, no
  // max-pool; otherwise conv7x7 stride 2 + max-pool.
  ResNetImpl(int64_t in_channels, int64_t width, bool small_stem, int64_t stem_padding = 2,
             const std::string& arch = "resnet18");

  // x: [B, in_channels, H, W] float32 -> features [B, feature_dim()] (after
  // global average pooling).
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t feature_dim() const override { return feature_dim_; }
  std::string name() const override { return arch_; }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};

 private:
  std::string arch_;
  bool small_stem_;
  int64_t feature_dim_;
};
TORCH_MODULE(ResNet);

}  // namespace gps
