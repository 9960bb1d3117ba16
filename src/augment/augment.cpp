#include "gps/augment/augment.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

namespace gps {

torch::Tensor to_normalized_float(const torch::Tensor& images, const std::vector<float>& mean,
                                  const std::vector<float>& std) {
  GPS_CHECK(images.dim() == 4, "expected images [B, C, H, W], got ", images.sizes());
  const int64_t C = images.size(1);
  GPS_CHECK(int64_t(mean.size()) == C && int64_t(std.size()) == C, "normalisation needs ", C,
            " mean/std values, got ", mean.size(), "/", std.size());
  // (x/255 - m)/s == x * (1/(255 s)) - m/s, one fused pass.
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = 1.0f / (255.0f * std[c]);
    shift[c] = -mean[c] / std[c];
  }
  auto out = images.to(torch::kFloat32);
  out.mul_(torch::tensor(scale).view({1, C, 1, 1})).add_(torch::tensor(shift).view({1, C, 1, 1}));
  return out;
}

torch::Tensor flip_where(const torch::Tensor& images, const torch::Tensor& flip) {
  GPS_CHECK(flip.dim() == 1 && flip.size(0) == images.size(0), "flip_where: need one flag per image");
  if (!flip.any().item<bool>()) return images;
  auto out = images.clone();
  auto idx = flip.nonzero().squeeze(1);
  out.index_copy_(0, idx, images.index_select(0, idx).flip({3}));
  return out;
}

namespace {

class NoAugmentation : public Augmentation {
 public:
  NoAugmentation(std::vector<float> mean, std::vector<float> std) : mean_(std::move(mean)), std_(std::move(std)) {}
  torch::Tensor apply(const torch::Tensor& images, const torch::Tensor&, uint64_t) const override {
    return to_normalized_float(images, mean_, std_);
  }
  std::string describe() const override { return "none"; }

 private:
  std::vector<float> mean_, std_;
};

// RHFlipAug: random horizontal flip with probability p (the paper's weak setting).
class FlipAugmentation : public Augmentation {
 public:
  FlipAugmentation(double p, std::vector<float> mean, std::vector<float> std)
      : p_(p), mean_(std::move(mean)), std_(std::move(std)) {}
  torch::Tensor apply(const torch::Tensor& images, const torch::Tensor& keys, uint64_t stream) const override {
    GPS_CHECK(keys.dim() == 1 && keys.size(0) == images.size(0), "augment: need one key per image");
    const int64_t B = images.size(0);
    auto flip = torch::empty({B}, torch::kBool);
    auto* f = flip.data_ptr<bool>();
    const auto* k = keys.data_ptr<int64_t>();
    for (int64_t i = 0; i < B; ++i) f[i] = Rng(stream, uint64_t(k[i])).bernoulli(p_);
    return to_normalized_float(flip_where(images, flip), mean_, std_);
  }
  std::string describe() const override { return str_cat("weak(flip_p=", p_, ")"); }

 private:
  double p_;
  std::vector<float> mean_, std_;
};

}  // namespace

std::unique_ptr<Augmentation> make_augmentation(const AugmentConfig& cfg, const std::vector<float>& mean,
                                                const std::vector<float>& std) {
  if (cfg.preset == "none") return std::make_unique<NoAugmentation>(mean, std);
  if (cfg.preset == "weak") return std::make_unique<FlipAugmentation>(cfg.flip_p, mean, std);
  GPS_FAIL("augment.preset: unknown preset '", cfg.preset, "' (expected none | weak)");
}

}  // namespace gps
