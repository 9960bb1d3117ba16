#include "gps/augment/geometry.h"

#include "cv_image.h"
#include "gps/core/check.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace gps {

CropBox random_resized_crop_box(int64_t H, int64_t W, double min_scale, double max_scale, double min_ratio,
                                double max_ratio, Rng& rng) {
  GPS_CHECK(H >= 1 && W >= 1, "random resized crop: empty image ", H, "x", W);
  GPS_CHECK(min_scale > 0 && min_scale <= max_scale && max_scale <= 1, "augment.min_scale/max_scale: need 0 < ",
            min_scale, " <= ", max_scale, " <= 1");
  GPS_CHECK(min_ratio > 0 && min_ratio <= max_ratio, "random resized crop: bad ratio range [", min_ratio, ", ",
            max_ratio, "]");
  const double area = double(H) * double(W);
  const double log_lo = std::log(min_ratio), log_hi = std::log(max_ratio);
  constexpr int kAttempts = 10;  // as torchvision
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const double target = area * rng.uniform(min_scale, max_scale);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    // Ties to even, as Python round. Compared as doubles first: a huge ratio gives a side no int64 holds.
    const double wd = std::nearbyint(std::sqrt(target * aspect)), hd = std::nearbyint(std::sqrt(target / aspect));
    if (!(wd >= 1 && hd >= 1 && wd <= double(W) && hd <= double(H))) continue;
    const auto w = int64_t(wd), h = int64_t(hd);
    const auto top = int64_t(rng.below(uint64_t(H - h + 1)));
    const auto left = int64_t(rng.below(uint64_t(W - w + 1)));
    return {top, left, h, w};
  }
  // Central-crop fallback.
  const double in_ratio = double(W) / double(H);
  int64_t w = W, h = H;
  if (in_ratio < min_ratio) {
    h = int64_t(std::clamp(std::nearbyint(double(w) / min_ratio), 1.0, double(H)));
  } else if (in_ratio > max_ratio) {
    w = int64_t(std::clamp(std::nearbyint(double(h) * max_ratio), 1.0, double(W)));
  }
  return {(H - h) / 2, (W - w) / 2, h, w};
}

namespace cvimg {

void resized_crop(const cv::Mat& in, const CropBox& b, int out_h, int out_w, Interp interp, cv::Mat& out) {
  GPS_CHECK(b.top >= 0 && b.left >= 0 && b.height >= 1 && b.width >= 1 && b.top + b.height <= in.rows &&
                b.left + b.width <= in.cols,
            "resized crop: box (", b.top, ", ", b.left, ", ", b.height, ", ", b.width, ") outside a ", in.rows, "x",
            in.cols, " image");
  GPS_CHECK(out_h >= 1 && out_w >= 1, "augment.crop_size: output size must be positive, got ", out_h, "x", out_w);
  const cv::Mat roi = in(cv::Rect(int(b.left), int(b.top), int(b.width), int(b.height)));
  if (roi.rows == out_h && roi.cols == out_w) {
    roi.copyTo(out);
    return;
  }
  cv::resize(roi, out, cv::Size(out_w, out_h), 0, 0, interp == Interp::bicubic ? cv::INTER_CUBIC : cv::INTER_LINEAR);
}

void hflip(cv::Mat& m) { cv::flip(m, m, 1); }

}  // namespace cvimg

torch::Tensor resized_crop(const torch::Tensor& image, const CropBox& box, int64_t out_h, int64_t out_w,
                           Interp interp) {
  cv::Mat in = cvimg::from_chw(image, "resized_crop"), out;
  cvimg::resized_crop(in, box, int(out_h), int(out_w), interp, out);
  return cvimg::to_chw(out);
}

torch::Tensor hflip(const torch::Tensor& image) {
  cv::Mat m = cvimg::from_chw(image, "hflip");
  cvimg::hflip(m);
  return cvimg::to_chw(m);
}

}  // namespace gps
