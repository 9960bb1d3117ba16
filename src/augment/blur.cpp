#include "gps/augment/blur.h"

#include "cv_image.h"
#include "gps/core/check.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace gps {

int64_t blur_kernel_size(double sigma) {
  GPS_CHECK(sigma > 0 && std::isfinite(sigma), "gaussian blur: sigma must be > 0, got ", sigma);
  // Capped at 2e9 + 1 (a sigma of 1e300 must not overflow): the kernel is cut
  // to the image side anyway.
  return 2 * int64_t(std::min(std::ceil(3.0 * sigma), 1e9)) + 1;
}

namespace cvimg {

void gaussian_blur(cv::Mat& m, double sigma) {
  int64_t k = blur_kernel_size(sigma);
  const int64_t side = std::min(m.rows, m.cols);
  const int64_t max_k = side % 2 == 1 ? side : side - 1;  // reflection needs k/2 < side
  k = std::min(k, max_k);
  if (k <= 1) return;
  cv::GaussianBlur(m, m, cv::Size(int(k), int(k)), sigma, sigma, cv::BORDER_REFLECT_101);
}

}  // namespace cvimg

torch::Tensor gaussian_blur(const torch::Tensor& image, double sigma) {
  cv::Mat m = cvimg::from_chw(image, "gaussian_blur");
  cvimg::gaussian_blur(m, sigma);
  return cvimg::to_chw(m);
}

}  // namespace gps
