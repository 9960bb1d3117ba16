#include "gps/augment/color.h"

#include "cv_image.h"
#include "gps/core/check.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace gps {

JitterParams sample_jitter(const JitterStrength& s, Rng& rng) {
  GPS_CHECK(s.brightness >= 0 && s.contrast >= 0 && s.saturation >= 0, "color jitter: strengths must be >= 0, got ",
            s.brightness, ", ", s.contrast, ", ", s.saturation);
  GPS_CHECK(s.hue >= 0 && s.hue <= 0.5, "color jitter: hue strength must lie in [0, 0.5], got ", s.hue);
  JitterParams p;
  for (int i = 3; i > 0; --i) std::swap(p.order[i], p.order[rng.below(uint64_t(i + 1))]);  // Fisher-Yates
  auto factor = [&](double x) { return x > 0 ? rng.uniform(std::max(0.0, 1.0 - x), 1.0 + x) : 1.0; };
  p.brightness = factor(s.brightness);
  p.contrast = factor(s.contrast);
  p.saturation = factor(s.saturation);
  p.hue = s.hue > 0 ? rng.uniform(-s.hue, s.hue) : 0.0;
  return p;
}

namespace {

// PIL's Image.blend(deg, img, f) for one value: deg + f * (img - deg) in
// float, saturated and truncated. A factor beyond float's range (a jitter
// strength of 1e39, say) counts as the largest float, so that v == deg
// stays deg rather than inf * 0.
inline uint8_t blend(int deg, int v, float f) {
  f = std::min(f, std::numeric_limits<float>::max());
  const float x = float(deg) + f * float(v - deg);
  return x <= 0.f ? 0 : x >= 255.f ? 255 : uint8_t(x);
}

void apply_lut(cv::Mat& m, const std::array<uint8_t, 256>& lut) {
  const cv::Mat table(1, 256, CV_8U, const_cast<uint8_t*>(lut.data()));
  cv::LUT(m, table, m);
}

void grey_of(const cv::Mat& m, cv::Mat& grey) {
  if (m.channels() == 3)
    cv::cvtColor(m, grey, cv::COLOR_RGB2GRAY);
  else
    grey = m;
}

void adjust_brightness(cv::Mat& m, float f) {
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v) lut[v] = blend(0, v, f);
  apply_lut(m, lut);
}

void adjust_contrast(cv::Mat& m, float f) {
  cv::Mat grey;
  grey_of(m, grey);
  const int mean = int(std::floor(cv::mean(grey)[0] + 0.5));  // PIL rounds the mean
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v) lut[v] = blend(mean, v, f);
  apply_lut(m, lut);
}

void adjust_saturation(cv::Mat& m, float f) {
  if (m.channels() != 3) return;
  cv::Mat grey;
  grey_of(m, grey);
  for (int y = 0; y < m.rows; ++y) {
    uint8_t* row = m.ptr<uint8_t>(y);
    const uint8_t* g = grey.ptr<uint8_t>(y);
    for (int x = 0; x < m.cols; ++x)
      for (int c = 0; c < 3; ++c) row[3 * x + c] = blend(g[x], row[3 * x + c], f);
  }
}

void adjust_hue(cv::Mat& m, double h) {
  if (m.channels() != 3) return;
  // torchvision's PIL path: np.uint8(h * 255) added to the 8-bit hue, wrapping.
  const int shift = ((int(std::trunc(h * 255.0)) % 256) + 256) % 256;
  cv::Mat hsv;
  cv::cvtColor(m, hsv, cv::COLOR_RGB2HSV_FULL);
  for (int y = 0; y < hsv.rows; ++y) {
    uint8_t* row = hsv.ptr<uint8_t>(y);
    for (int x = 0; x < hsv.cols; ++x) row[3 * x] = uint8_t(row[3 * x] + shift);
  }
  cv::cvtColor(hsv, m, cv::COLOR_HSV2RGB_FULL);
}

}  // namespace

namespace cvimg {

void color_jitter(cv::Mat& m, const JitterParams& p) {
  for (int op : p.order) {
    switch (op) {
      case 0: if (p.brightness != 1) adjust_brightness(m, float(p.brightness)); break;
      case 1: if (p.contrast != 1) adjust_contrast(m, float(p.contrast)); break;
      case 2: if (p.saturation != 1) adjust_saturation(m, float(p.saturation)); break;
      case 3: if (p.hue != 0) adjust_hue(m, p.hue); break;
      default: GPS_FAIL("color jitter: bad op index ", op);
    }
  }
}

void to_grayscale(cv::Mat& m) {
  if (m.channels() != 3) return;
  cv::Mat grey;
  cv::cvtColor(m, grey, cv::COLOR_RGB2GRAY);
  cv::cvtColor(grey, m, cv::COLOR_GRAY2RGB);
}

void solarize(cv::Mat& m, int threshold) {
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v) lut[v] = uint8_t(v >= threshold ? 255 - v : v);
  apply_lut(m, lut);
}

void equalize(cv::Mat& m) {
  const int C = m.channels();
  const size_t n = m.total();
  const uint8_t* px = m.ptr<uint8_t>(0);  // continuous: made by from_chw or cv functions
  GPS_CHECK(m.isContinuous(), "equalize: expected a continuous image");
  std::vector<std::array<uint8_t, 256>> luts(C);
  for (int c = 0; c < C; ++c) {
    std::array<int64_t, 256> hist{};
    for (size_t i = 0; i < n; ++i) ++hist[px[i * C + c]];
    int last = 255;
    while (hist[last] == 0) --last;
    const int64_t step = (int64_t(n) - hist[last]) / 255;
    auto& lut = luts[c];
    if (step == 0) {  // one level used, or too few pixels: unchanged
      for (int v = 0; v < 256; ++v) lut[v] = uint8_t(v);
      continue;
    }
    int64_t acc = step / 2;
    for (int v = 0; v < 256; ++v) {
      lut[v] = uint8_t(std::min<int64_t>(acc / step, 255));
      acc += hist[v];
    }
  }
  uint8_t* out = m.ptr<uint8_t>(0);
  for (size_t i = 0; i < n; ++i)
    for (int c = 0; c < C; ++c) out[i * C + c] = luts[c][out[i * C + c]];
}

}  // namespace cvimg

torch::Tensor color_jitter(const torch::Tensor& image, const JitterParams& p) {
  cv::Mat m = cvimg::from_chw(image, "color_jitter");
  cvimg::color_jitter(m, p);
  return cvimg::to_chw(m);
}

torch::Tensor to_grayscale(const torch::Tensor& image) {
  cv::Mat m = cvimg::from_chw(image, "to_grayscale");
  cvimg::to_grayscale(m);
  return cvimg::to_chw(m);
}

torch::Tensor solarize(const torch::Tensor& image, int threshold) {
  GPS_CHECK(threshold >= 0 && threshold <= 256, "solarize: threshold must lie in [0, 256], got ", threshold);
  cv::Mat m = cvimg::from_chw(image, "solarize");
  cvimg::solarize(m, threshold);
  return cvimg::to_chw(m);
}

torch::Tensor equalize(const torch::Tensor& image) {
  cv::Mat m = cvimg::from_chw(image, "equalize");
  cvimg::equalize(m);
  return cvimg::to_chw(m);
}

}  // namespace gps
