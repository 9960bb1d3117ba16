#include "gps/augment/pipeline.h"

#include "cv_image.h"
#include "gps/core/check.h"

#include <ATen/Parallel.h>

namespace gps {

void PipelineSpec::validate() const {
  GPS_CHECK(size >= 0, "augment.crop_size: must be >= 0, got ", size);
  if (random_crop)
    GPS_CHECK(min_scale > 0 && min_scale <= max_scale && max_scale <= 1, "augment.min_scale/max_scale: need 0 < ",
              min_scale, " <= ", max_scale, " <= 1 (preset ", name, ")");
  for (double p : {jitter_p, gray_p, blur_p, solarize_p, equalize_p, flip_p})
    GPS_CHECK(p >= 0 && p <= 1, "augment preset ", name, ": probabilities must lie in [0, 1], got ", p);
  GPS_CHECK(blur_sigma_min > 0 && blur_sigma_min <= blur_sigma_max, "augment preset ", name,
            ": blur sigma range must satisfy 0 < min <= max");
}

std::string PipelineSpec::describe() const {
  std::string s = name + "(";
  s += random_crop ? str_cat("rrc ", min_scale, "-", max_scale) : std::string("resize");
  s += size > 0 ? str_cat(" to ", size) : std::string(" to input size");
  if (jitter_p > 0)
    s += str_cat(", jitter ", jitter_p, ": ", jitter.brightness, "/", jitter.contrast, "/", jitter.saturation, "/",
                 jitter.hue);
  if (gray_p > 0) s += str_cat(", gray ", gray_p);
  if (blur_p > 0) s += str_cat(", blur ", blur_p);
  if (solarize_p > 0) s += str_cat(", solarize ", solarize_p);
  if (equalize_p > 0) s += str_cat(", equalize ", equalize_p);
  if (flip_p > 0) s += str_cat(", flip ", flip_p);
  return s + ")";
}

SampleParams sample_params(const PipelineSpec& spec, int64_t H, int64_t W, Rng& rng) {
  SampleParams p;
  p.box = spec.random_crop
              ? random_resized_crop_box(H, W, spec.min_scale, spec.max_scale, spec.min_ratio, spec.max_ratio, rng)
              : CropBox{0, 0, H, W};
  auto coin = [&](double prob) { return prob > 0 && rng.bernoulli(prob); };
  if ((p.jitter = coin(spec.jitter_p))) p.jitter_params = sample_jitter(spec.jitter, rng);
  p.gray = coin(spec.gray_p);
  if ((p.blur = coin(spec.blur_p))) p.sigma = rng.uniform(spec.blur_sigma_min, spec.blur_sigma_max);
  p.solarize = coin(spec.solarize_p);
  p.equalize = coin(spec.equalize_p);
  p.flip = coin(spec.flip_p);
  return p;
}

namespace {

// The ops on one HWC image; `in` is read, the result returned.
cv::Mat run_ops(const cv::Mat& in, const PipelineSpec& spec, const SampleParams& p) {
  const int out_h = spec.size > 0 ? int(spec.size) : in.rows, out_w = spec.size > 0 ? int(spec.size) : in.cols;
  cv::Mat m;
  cvimg::resized_crop(in, p.box, out_h, out_w, spec.random_crop ? Interp::bicubic : Interp::bilinear, m);
  if (p.jitter) cvimg::color_jitter(m, p.jitter_params);
  if (p.gray) cvimg::to_grayscale(m);
  if (p.blur) cvimg::gaussian_blur(m, p.sigma);
  if (p.solarize) cvimg::solarize(m, spec.solarize_threshold);
  if (p.equalize) cvimg::equalize(m);
  if (p.flip) cvimg::hflip(m);
  return m;
}

class PipelineAugmentation : public Augmentation {
 public:
  PipelineAugmentation(std::array<PipelineSpec, 2> views, std::vector<float> mean, std::vector<float> std)
      : views_(std::move(views)), mean_(std::move(mean)), std_(std::move(std)) {
    for (auto& v : views_) v.validate();
    GPS_CHECK(mean_.size() == std_.size() && !mean_.empty(), "augment: need one mean and std per channel");
    // Per-channel table uint8 -> normalised float, computed as
    // to_normalized_float does (x * scale, then + shift) so results match it.
    luts_.resize(mean_.size());
    for (size_t c = 0; c < mean_.size(); ++c) {
      const float scale = 1.0f / (255.0f * std_[c]), shift = -mean_[c] / std_[c];
      for (int v = 0; v < 256; ++v) {
        const float scaled = float(v) * scale;
        luts_[c][v] = scaled + shift;
      }
    }
  }

  torch::Tensor apply(const torch::Tensor& images, const torch::Tensor& keys, uint64_t stream,
                      int view) const override {
    GPS_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8 && images.device().is_cpu(),
              "augment: expected images [B, C, H, W] uint8 CPU, got ", images.sizes(), " ", images.scalar_type());
    GPS_CHECK(keys.dim() == 1 && keys.size(0) == images.size(0) && keys.scalar_type() == torch::kInt64,
              "augment: need one int64 key per image");
    GPS_CHECK(view == 0 || view == 1, "augment: view must be 0 or 1, got ", view);
    const int64_t B = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
    GPS_CHECK(C == int64_t(luts_.size()), "augment: images have ", C, " channels but normalisation has ",
              luts_.size());
    const PipelineSpec& spec = views_[size_t(view)];
    const int64_t S_h = spec.size > 0 ? spec.size : H, S_w = spec.size > 0 ? spec.size : W;
    auto src = images.contiguous();
    auto k = keys.contiguous();
    auto out = torch::empty({B, C, S_h, S_w}, torch::kFloat32);
    const int64_t* kp = k.data_ptr<int64_t>();
    const uint8_t* in_base = src.data_ptr<uint8_t>();
    float* out_base = out.data_ptr<float>();
    const int64_t in_stride = C * H * W, n = S_h * S_w;
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        Rng rng(stream, uint64_t(kp[i]));
        const SampleParams p = sample_params(spec, H, W, rng);
        const cv::Mat m = run_ops(cvimg::from_planes(in_base + i * in_stride, int(C), int(H), int(W)), spec, p);
        float* o = out_base + i * C * n;
        const uint8_t* px = m.ptr<uint8_t>(0);
        for (int64_t c = 0; c < C; ++c) {
          const auto& lut = luts_[size_t(c)];
          float* oc = o + c * n;
          for (int64_t j = 0; j < n; ++j) oc[j] = lut[px[j * C + c]];
        }
      }
    });
    return out;
  }

  std::string describe() const override {
    if (views_[0].describe() == views_[1].describe()) return views_[0].describe();
    return views_[0].describe() + " / " + views_[1].describe();
  }

 private:
  std::array<PipelineSpec, 2> views_;
  std::vector<float> mean_, std_;
  std::vector<std::array<float, 256>> luts_;
};

}  // namespace

torch::Tensor augment_image(const torch::Tensor& image, const PipelineSpec& spec, const SampleParams& p) {
  return cvimg::to_chw(run_ops(cvimg::from_chw(image, "augment_image"), spec, p));
}

std::unique_ptr<Augmentation> make_pipeline_augmentation(std::array<PipelineSpec, 2> views, std::vector<float> mean,
                                                         std::vector<float> std) {
  return std::make_unique<PipelineAugmentation>(std::move(views), std::move(mean), std::move(std));
}

}  // namespace gps
