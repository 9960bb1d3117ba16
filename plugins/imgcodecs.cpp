// libgps_imgcodecs.so: image-file decoding (OpenCV imgcodecs) for gps.
#include "gps/io/plugin_abi.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>

extern "C" int gps_imread_v1(const char* path, int flags, cv::Mat* out, char* err, size_t err_len) {
  try {
    *out = cv::imread(path, flags);
    return 0;
  } catch (const cv::Exception& e) {
    std::snprintf(err, err_len, "%s", e.what());
    return 1;
  }
}
