#include "cv_image.h"

#include "gps/core/check.h"

#include <cstring>

namespace gps::cvimg {

cv::Mat from_chw(const torch::Tensor& image, const char* what) {
  GPS_CHECK(image.dim() == 3 && image.scalar_type() == torch::kUInt8 && image.device().is_cpu(), what,
            ": expected a [C, H, W] uint8 CPU image, got ", image.sizes(), " ", image.scalar_type());
  const int64_t C = image.size(0), H = image.size(1), W = image.size(2);
  GPS_CHECK(C == 1 || C == 3, what, ": expected 1 or 3 channels, got ", C);
  GPS_CHECK(H >= 1 && W >= 1, what, ": empty image ", image.sizes());
  const auto chw = image.contiguous();
  return from_planes(chw.data_ptr<uint8_t>(), int(C), int(H), int(W));
}

cv::Mat from_planes(const uint8_t* chw, int C, int H, int W) {
  if (C == 1) return cv::Mat(H, W, CV_8UC1, const_cast<uint8_t*>(chw)).clone();
  const size_t n = size_t(H) * size_t(W);
  cv::Mat planes[3];
  for (int c = 0; c < 3; ++c) planes[c] = cv::Mat(H, W, CV_8UC1, const_cast<uint8_t*>(chw + c * n));
  cv::Mat m;
  cv::merge(planes, 3, m);
  return m;
}

torch::Tensor to_chw(const cv::Mat& m) {
  const cv::Mat c = m.isContinuous() ? m : m.clone();
  auto hwc = torch::empty({c.rows, c.cols, c.channels()}, torch::kUInt8);
  std::memcpy(hwc.data_ptr<uint8_t>(), c.data, c.total() * c.elemSize());
  return hwc.permute({2, 0, 1}).contiguous();
}

}  // namespace gps::cvimg
