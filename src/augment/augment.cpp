#include "gps/augment/augment.h"

#include "gps/augment/pipeline.h"

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
  torch::Tensor apply(const torch::Tensor& images, const torch::Tensor&, uint64_t, int) const override {
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
  torch::Tensor apply(const torch::Tensor& images, const torch::Tensor& keys, uint64_t stream, int) const override {
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

// The two views' pipelines of a preset (docs/reference-behaviour.md §5).
std::array<PipelineSpec, 2> preset_views(const AugmentConfig& cfg) {
  PipelineSpec v;
  v.name = cfg.preset;
  v.size = cfg.crop_size;
  v.flip_p = cfg.flip_p;
  auto rrc = [&](double min_scale) {
    v.random_crop = true;
    v.min_scale = cfg.min_scale > 0 ? cfg.min_scale : min_scale;
    v.max_scale = cfg.max_scale > 0 ? cfg.max_scale : 1.0;
  };
  auto jitter = [&](double b, double c, double s, double h) {
    v.jitter_p = 0.8;
    v.jitter = {b, c, s, h};
    v.gray_p = 0.2;
  };
  if (cfg.preset == "weak") return {v, v};
  if (cfg.preset == "weak-rrc") {
    rrc(0.08);
    return {v, v};
  }
  GPS_CHECK(cfg.preset != "strong", "augment.preset=strong means the method's reference preset "
            "(methods/recipes.h); resolve it with gps::augment_for(config) before make_augmentation");
  if (cfg.preset == "symmetric") {  // solo-learn's symmetric.yaml (SimCLR, SwAV)
    rrc(0.08);
    jitter(0.8, 0.8, 0.8, 0.2);
    v.blur_p = 0.5;
    return {v, v};
  }
  if (cfg.preset == "symmetric-weak") {  // solo-learn's symmetric_weak.yaml (SimSiam)
    rrc(0.08);
    jitter(0.4, 0.4, 0.4, 0.1);
    v.blur_p = 0.5;
    return {v, v};
  }
  if (cfg.preset == "asymmetric") {
    rrc(0.08);
    jitter(0.4, 0.4, 0.2, 0.1);
    PipelineSpec v2 = v;
    v2.solarize_p = 0.2;
    return {v, v2};
  }
  if (cfg.preset == "vicreg") {
    rrc(0.2);
    jitter(0.4, 0.4, 0.2, 0.1);
    v.solarize_p = 0.1;
    return {v, v};
  }
  GPS_FAIL("augment.preset: unknown preset '", cfg.preset,
           "' (expected none | weak | weak-rrc | strong | symmetric | symmetric-weak | asymmetric | vicreg)");
}

// Multi-crop's local views: the first global view's ops, on a random
// resized crop of augment.local_min_scale .. local_scale of the image, at
// augment.local_size (DINO's local crops).
LocalCrops local_crops(const AugmentConfig& cfg, const PipelineSpec& global) {
  LocalCrops l;
  l.count = cfg.local_crops;
  l.spec = global;
  l.spec.name = global.name + "-local";
  l.spec.size = cfg.local_size;
  l.spec.random_crop = true;
  l.spec.min_scale = cfg.local_min_scale;
  l.spec.max_scale = cfg.local_scale;
  return l;
}

}  // namespace

std::unique_ptr<Augmentation> make_augmentation(const AugmentConfig& cfg, const std::vector<float>& mean,
                                                const std::vector<float>& std) {
  GPS_CHECK(cfg.crop_size >= 0, "augment.crop_size: must be >= 0, got ", cfg.crop_size);
  if (cfg.preset == "none") {
    if (cfg.crop_size == 0) return std::make_unique<NoAugmentation>(mean, std);
    PipelineSpec resize;
    resize.name = "none";
    resize.size = cfg.crop_size;
    return make_pipeline_augmentation({resize, resize}, mean, std);
  }
  if (cfg.preset == "weak" && cfg.crop_size == 0 && cfg.local_crops == 0)
    return std::make_unique<FlipAugmentation>(cfg.flip_p, mean, std);
  std::array<PipelineSpec, 2> views;
  if (cfg.preset == "custom") {
    PipelineSpec v1 = parse_pipeline_spec(cfg.view1, "augment.view1");
    PipelineSpec v2 = cfg.view2.empty() ? v1 : parse_pipeline_spec(cfg.view2, "augment.view2");
    v1.size = v2.size = cfg.crop_size;
    views = {v1, v2};
  } else {
    views = preset_views(cfg);
  }
  return make_pipeline_augmentation(views, mean, std, local_crops(cfg, views[0]));
}

}  // namespace gps
