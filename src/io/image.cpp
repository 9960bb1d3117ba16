#include "gps/io/image.h"

#include "gps/core/check.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace gps {

void save_png(const std::string& path, const torch::Tensor& image) {
  GPS_CHECK(path.size() > 4 && path.compare(path.size() - 4, 4, ".png") == 0, "save_png: '", path,
            "' must end in .png");
  GPS_CHECK(image.dim() == 3 && image.scalar_type() == torch::kUInt8 && image.device().is_cpu(),
            "save_png(", path, "): expected a [C, H, W] uint8 CPU image, got ", image.sizes(), " ",
            image.scalar_type());
  const int64_t C = image.size(0);
  GPS_CHECK(C == 1 || C == 3, "save_png(", path, "): expected 1 or 3 channels, got ", C);
  auto hwc = image.permute({1, 2, 0}).contiguous();
  cv::Mat m(int(image.size(1)), int(image.size(2)), C == 1 ? CV_8UC1 : CV_8UC3, hwc.data_ptr<uint8_t>());
  cv::Mat out;
  if (C == 3)
    cv::cvtColor(m, out, cv::COLOR_RGB2BGR);  // OpenCV writes BGR
  else
    out = m;
  bool ok = false;
  try {
    ok = cv::imwrite(path, out);
  } catch (const cv::Exception& e) {
    GPS_FAIL("save_png: cannot write '", path, "': ", e.what());
  }
  GPS_CHECK(ok, "save_png: cannot write '", path, "' (does the folder exist?)");
}

}  // namespace gps
