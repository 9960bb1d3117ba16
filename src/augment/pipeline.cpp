#include "gps/augment/pipeline.h"

#include <algorithm>

#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

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

PipelineSpec parse_pipeline_spec(const std::string& text, const std::string& key) {
  PipelineSpec spec;
  spec.name = key;
  std::set<std::string> seen;
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ';')) ++i;
  };
  for (skip(); i < text.size(); skip()) {
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    const std::string op = text.substr(i, j - i);
    GPS_CHECK(!op.empty(), key, ": expected an op name at position ", i, " of \"", text, "\"");
    std::vector<double> args;
    i = j;
    if (i < text.size() && text[i] == '(') {
      const size_t close = text.find(')', i);
      GPS_CHECK(close != std::string::npos, key, ": missing ')' after ", op, "(");
      std::stringstream in(text.substr(i + 1, close - i - 1));
      for (std::string item; std::getline(in, item, ',');) {
        const size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
        size_t used = 0;
        double v = 0;
        try {
          v = std::stod(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        while (used < item.size() && std::isspace(static_cast<unsigned char>(item[used]))) ++used;
        GPS_CHECK(used == item.size() && !item.empty() && std::isfinite(v), key, ": ", op, "(...): '", item,
                  "' is not a finite number");
        args.push_back(v);
      }
      i = close + 1;
    }
    GPS_CHECK(seen.insert(op).second, key, ": op ", op, " appears twice");
    auto arg = [&](size_t n, double def) { return n < args.size() ? args[n] : def; };
    auto max_args = [&](size_t n) {
      GPS_CHECK(args.size() <= n, key, ": ", op, " takes at most ", n, " arguments, got ", args.size());
    };
    if (op == "crop") {
      max_args(4);
      spec.random_crop = true;
      spec.min_scale = arg(0, 0.08), spec.max_scale = arg(1, 1.0);
      spec.min_ratio = arg(2, 3.0 / 4.0), spec.max_ratio = arg(3, 4.0 / 3.0);
      GPS_CHECK(spec.min_ratio > 0 && spec.min_ratio <= spec.max_ratio, key, ": crop ratios must satisfy 0 < ",
                spec.min_ratio, " <= ", spec.max_ratio);
    } else if (op == "jitter") {
      max_args(5);
      spec.jitter_p = arg(0, 0.8);
      spec.jitter = {arg(1, 0.4), arg(2, 0.4), arg(3, 0.2), arg(4, 0.1)};
      GPS_CHECK(spec.jitter.brightness >= 0 && spec.jitter.contrast >= 0 && spec.jitter.saturation >= 0 &&
                    spec.jitter.hue >= 0 && spec.jitter.hue <= 0.5,
                key, ": jitter strengths must be >= 0 and hue <= 0.5");
    } else if (op == "gray") {
      max_args(1);
      spec.gray_p = arg(0, 0.2);
    } else if (op == "blur") {
      max_args(3);
      spec.blur_p = arg(0, 0.5), spec.blur_sigma_min = arg(1, 0.1), spec.blur_sigma_max = arg(2, 2.0);
    } else if (op == "solarize") {
      max_args(2);
      spec.solarize_p = arg(0, 0.2);
      const double threshold = arg(1, 128);
      GPS_CHECK(threshold >= 0 && threshold <= 256 && threshold == std::floor(threshold), key,
                ": solarize threshold must be a whole number in [0, 256], got ", threshold);
      spec.solarize_threshold = int(threshold);
    } else if (op == "equalize") {
      max_args(1);
      spec.equalize_p = arg(0, 0.5);
    } else if (op == "flip") {
      max_args(1);
      spec.flip_p = arg(0, 0.5);
    } else {
      GPS_FAIL(key, ": unknown op '", op, "' (expected crop, jitter, gray, blur, solarize, equalize, flip)");
    }
  }
  GPS_CHECK(!seen.empty(), key, ": no ops in \"", text, "\"");
  try {
    spec.validate();
  } catch (const Error& e) {
    GPS_FAIL(key, ": ", e.what());
  }
  return spec;
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
  PipelineAugmentation(std::array<PipelineSpec, 2> views, std::vector<float> mean, std::vector<float> std,
                       LocalCrops locals)
      : views_(std::move(views)), locals_(std::move(locals)), mean_(std::move(mean)), std_(std::move(std)) {
    for (auto& v : views_) v.validate();
    if (locals_.count > 0) locals_.spec.validate();
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
    GPS_CHECK(view >= 0 && view < 2 + locals_.count, "augment: view must be in [0, ", 2 + locals_.count, "), got ",
              view);
    const int64_t B = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
    GPS_CHECK(C == int64_t(luts_.size()), "augment: images have ", C, " channels but normalisation has ",
              luts_.size());
    PipelineSpec local;
    if (view >= 2) {  // a local view; size 0: 3/7 of the global views' size
      local = locals_.spec;
      const int64_t global = views_[0].size > 0 ? views_[0].size : std::min(H, W);
      if (local.size == 0) local.size = std::max<int64_t>(1, (global * 3 + 3) / 7);
    }
    const PipelineSpec& spec = view >= 2 ? local : views_[size_t(view)];
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
    std::string d = views_[0].describe() == views_[1].describe() ? views_[0].describe()
                                                                  : views_[0].describe() + " / " + views_[1].describe();
    if (locals_.count > 0) d += str_cat(" + ", locals_.count, " x local ", locals_.spec.describe());
    return d;
  }

  std::vector<ViewOf> views() const override {
    std::vector<ViewOf> v = {ViewOf::anchor, ViewOf::positive};
    for (int64_t j = 0; j < locals_.count; ++j) v.push_back(j % 2 == 0 ? ViewOf::anchor : ViewOf::positive);
    return v;
  }

 private:
  std::array<PipelineSpec, 2> views_;
  LocalCrops locals_;
  std::vector<float> mean_, std_;
  std::vector<std::array<float, 256>> luts_;
};

}  // namespace

torch::Tensor augment_image(const torch::Tensor& image, const PipelineSpec& spec, const SampleParams& p) {
  return cvimg::to_chw(run_ops(cvimg::from_chw(image, "augment_image"), spec, p));
}

std::unique_ptr<Augmentation> make_pipeline_augmentation(std::array<PipelineSpec, 2> views, std::vector<float> mean,
                                                         std::vector<float> std, LocalCrops locals) {
  return std::make_unique<PipelineAugmentation>(std::move(views), std::move(mean), std::move(std), std::move(locals));
}

}  // namespace gps
