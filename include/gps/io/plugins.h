// OpenCV's heavy modules, loaded on first use.
//
// The `gps` binary links only OpenCV core and imgproc (augmentation, plots).
// Decoding image files (imgcodecs: libpng, libjpeg, libtiff, GDAL, ... about
// 200 MiB of shared libraries) and running ONNX networks (dnn) live in two
// plugins built next to it, libgps_imgcodecs.so and libgps_onnx.so
// (plugins/). A machine that never reads an image folder or an ONNX prior
// needs neither; the GPU bundle (scripts/gpu_bundle.sh) leaves them out.
//
// A plugin is looked for in $GPS_PLUGIN_DIR, then next to the executable,
// then one folder up and in ../lib, then next to the shared object holding
// gps (Python's gps_ssl._core), in its bin/ and two folders up, then on the
// loader's search path. When it
// is missing, the functions below throw gps::Error saying so and naming the
// places searched.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace cv {
class Mat;  // callers of imread / OnnxNet include <opencv2/core.hpp>
}

namespace gps::plugins {

// cv::imread through libgps_imgcodecs.so: `flags` is cv::IMREAD_*. An empty
// Mat when the file is not an image OpenCV decodes; *why says so (and names
// OpenCV's exception, if any).
cv::Mat imread(const std::string& path, int flags, std::string* why);

// cv::imdecode of `size` encoded bytes; as imread otherwise.
cv::Mat imdecode(const unsigned char* data, size_t size, int flags, std::string* why);

// `image` (8-bit gray or BGR) as JPEG bytes at `quality` (1..100). Throws
// gps::Error with OpenCV's message when it cannot be encoded.
std::vector<unsigned char> imencode_jpeg(const cv::Mat& image, int quality);

// A network read from an ONNX file through libgps_onnx.so (OpenCV dnn, CPU).
class OnnxNet {
 public:
  // Throws gps::Error naming `path` when it cannot be read.
  explicit OnnxNet(const std::string& path);
  ~OnnxNet();
  OnnxNet(const OnnxNet&) = delete;
  OnnxNet& operator=(const OnnxNet&) = delete;
  // input: a 4-D float32 blob [B, C, H, W]. The first output blob. Throws
  // gps::Error with OpenCV's message on failure. Not thread-safe.
  cv::Mat forward(const cv::Mat& input);

 private:
  void* net_ = nullptr;
};

// Where the plugin `name` (e.g. "imgcodecs") was loaded from, or "" when it
// cannot be found. Does not throw. For `gps info`.
std::string location(const std::string& name);

}  // namespace gps::plugins
