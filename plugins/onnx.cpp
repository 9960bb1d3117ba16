// libgps_onnx.so: ONNX networks through OpenCV's dnn module (CPU) for gps.
#include "gps/io/plugin_abi.h"

#include <opencv2/dnn.hpp>

#include <cstdio>
#include <exception>

namespace {
int fail(const std::exception& e, char* err, size_t err_len) {
  std::snprintf(err, err_len, "%s", e.what());
  return 1;
}
}  // namespace

extern "C" int gps_onnx_open_v1(const char* path, void** net, char* err, size_t err_len) {
  try {
    auto* n = new cv::dnn::Net(cv::dnn::readNetFromONNX(path));
    if (n->empty()) {
      delete n;
      std::snprintf(err, err_len, "the file holds no layers OpenCV can run");
      return 1;
    }
    n->setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    n->setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    *net = n;
    return 0;
  } catch (const std::exception& e) {
    return fail(e, err, err_len);
  }
}

extern "C" int gps_onnx_forward_v1(void* net, const cv::Mat* input, cv::Mat* output, char* err, size_t err_len) {
  try {
    auto* n = static_cast<cv::dnn::Net*>(net);
    n->setInput(*input);
    *output = n->forward();
    return 0;
  } catch (const std::exception& e) {
    return fail(e, err, err_len);
  }
}

extern "C" void gps_onnx_close_v1(void* net) { delete static_cast<cv::dnn::Net*>(net); }
