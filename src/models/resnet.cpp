#include "gps/models/resnet.h"

#include "gps/core/check.h"
#include "gps/distributed/sync_batch_norm.h"

namespace gps {

namespace nn = torch::nn;

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

void init_weights(nn::Module& m) {
  for (auto& mod : m.modules(/*include_self=*/false)) {
    if (auto* c = mod->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = mod->as<nn::BatchNorm2d>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
  conv1 = register_module("conv1", conv(in, out, 3, stride, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(out));
  conv2 = register_module("conv2", conv(out, out, 3, 1, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    downsample = register_module("downsample", nn::Sequential(conv(in, out, 1, stride, 0), SyncBatchNorm(out)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(gps::batch_norm(*bn1, conv1(x)));
  y = gps::batch_norm(*bn2, conv2(y));
  return torch::relu(y + (downsample ? downsample->forward(x) : x));
}

BottleneckImpl::BottleneckImpl(int64_t in, int64_t width, int64_t stride) {
  const int64_t out = width * kExpansion;
  conv1 = register_module("conv1", conv(in, width, 1, 1, 0));
  bn1 = register_module("bn1", nn::BatchNorm2d(width));
  conv2 = register_module("conv2", conv(width, width, 3, stride, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(width));
  conv3 = register_module("conv3", conv(width, out, 1, 1, 0));
  bn3 = register_module("bn3", nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    downsample = register_module("downsample", nn::Sequential(conv(in, out, 1, stride, 0), SyncBatchNorm(out)));
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(gps::batch_norm(*bn1, conv1(x)));
  y = torch::relu(gps::batch_norm(*bn2, conv2(y)));
  y = gps::batch_norm(*bn3, conv3(y));
  return torch::relu(y + (downsample ? downsample->forward(x) : x));
}

ResNetImpl::ResNetImpl(int64_t in_channels, int64_t width, bool small_stem, int64_t stem_padding,
                       const std::string& arch)
    : arch_(arch), small_stem_(small_stem), feature_dim_(arch == "resnet50" ? 8 * width * BottleneckImpl::kExpansion : 8 * width) {
  GPS_CHECK(arch == "resnet18" || arch == "resnet50", "model.arch: unknown backbone '", arch,
            "' (expected resnet18 | resnet50)");
  GPS_CHECK(in_channels == 1 || in_channels == 3, "ResNet: in_channels must be 1 or 3, got ", in_channels);
  GPS_CHECK(width >= 1, "model.width must be >= 1");
  conv1 = register_module("conv1", small_stem ? conv(in_channels, width, 3, 1, stem_padding)
                                              : conv(in_channels, width, 7, 2, 3));
  bn1 = register_module("bn1", nn::BatchNorm2d(width));
  // One stage: `blocks` blocks of `planes` channels, the first with `stride`.
  int64_t in = width;
  auto stage = [&](int64_t planes, int64_t blocks, int64_t stride) {
    nn::Sequential seq;
    for (int64_t b = 0; b < blocks; ++b) {
      if (arch == "resnet50") {
        seq->push_back(Bottleneck(in, planes, b == 0 ? stride : 1));
        in = planes * BottleneckImpl::kExpansion;
      } else {
        seq->push_back(BasicBlock(in, planes, b == 0 ? stride : 1));
        in = planes;
      }
    }
    return seq;
  };
  const bool deep = arch == "resnet50";
  layer1 = register_module("layer1", stage(width, deep ? 3 : 2, 1));
  layer2 = register_module("layer2", stage(2 * width, deep ? 4 : 2, 2));
  layer3 = register_module("layer3", stage(4 * width, deep ? 6 : 2, 2));
  layer4 = register_module("layer4", stage(8 * width, deep ? 3 : 2, 2));
  init_weights(*this);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(gps::batch_norm(*bn1, conv1(x)));
  if (!small_stem_) y = torch::max_pool2d(y, 3, 2, 1);
  y = layer1->forward(y);
  y = layer2->forward(y);
  y = layer3->forward(y);
  y = layer4->forward(y);
  return torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
}

}  // namespace gps
