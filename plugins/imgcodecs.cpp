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

extern "C" int gps_imdecode_v1(const unsigned char* data, size_t size, int flags, cv::Mat* out, char* err,
                               size_t err_len) {
  try {
    *out = cv::imdecode(cv::Mat(1, int(size), CV_8UC1, const_cast<unsigned char*>(data)), flags);
    return 0;
  } catch (const cv::Exception& e) {
    std::snprintf(err, err_len, "%s", e.what());
    return 1;
  }
}

extern "C" int gps_imencode_jpeg_v1(const cv::Mat* image, int quality, std::vector<unsigned char>* out, char* err,
                                    size_t err_len) {
  try {
    if (!cv::imencode(".jpg", *image, *out, {cv::IMWRITE_JPEG_QUALITY, quality})) {
      std::snprintf(err, err_len, "OpenCV could not encode the image as JPEG");
      return 1;
    }
    return 0;
  } catch (const cv::Exception& e) {
    std::snprintf(err, err_len, "%s", e.what());
    return 1;
  }
}
