#include "gps/io/plugins.h"

#include "gps/core/check.h"
#include "gps/io/plugin_abi.h"

#include <dlfcn.h>
#include <opencv2/core.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

namespace gps::plugins {

namespace fs = std::filesystem;

namespace {

struct Loaded {
  void* handle = nullptr;
  std::string path;    // where it was loaded from
  std::string tried;   // the places searched, for the error message
  std::string error;   // dlerror() of the last attempt
};

// The folders searched, in order, for lib<file>.
std::vector<std::string> candidates(const std::string& file) {
  std::vector<std::string> out;
  if (const char* d = std::getenv("GPS_PLUGIN_DIR"); d != nullptr && *d != '\0') out.push_back((fs::path(d) / file).string());
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = exe.parent_path();
    for (const fs::path& p : {dir / file, dir.parent_path() / file, dir.parent_path() / "lib" / file})
      out.push_back(p.lexically_normal().string());
  }
  // Inside another program (Python's gps_ssl._core): next to the shared
  // object that holds this code, in its bin/ (a pip install), and two
  // folders up (the build tree's python/gps_ssl/).
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&candidates), &info) != 0 && info.dli_fname != nullptr) {
    const fs::path dir = fs::path(info.dli_fname).parent_path();
    for (const fs::path& p : {dir / file, dir / "bin" / file, dir.parent_path().parent_path() / file})
      out.push_back(p.lexically_normal().string());
  }
  out.push_back(file);  // LD_LIBRARY_PATH, RUNPATH, the system folders
  return out;
}

const Loaded& load(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, Loaded> loaded;
  std::lock_guard<std::mutex> lock(mu);
  auto it = loaded.find(name);
  if (it != loaded.end()) return it->second;
  Loaded l;
  const std::string file = "libgps_" + name + ".so";
  for (const std::string& c : candidates(file)) {
    l.tried += (l.tried.empty() ? "" : ", ") + c;
    if (c.find('/') != std::string::npos && !fs::exists(c)) continue;
    l.handle = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (l.handle != nullptr) {
      l.path = c;
      break;
    }
    if (const char* e = dlerror()) l.error = e;
  }
  return loaded.emplace(name, std::move(l)).first->second;
}

template <typename Fn>
Fn symbol(const std::string& name, const char* sym, const char* purpose) {
  const Loaded& l = load(name);
  GPS_CHECK(l.handle != nullptr, purpose, " needs the plugin libgps_", name, ".so, which this installation lacks ",
            "(searched: ", l.tried, l.error.empty() ? "" : "; last error: ", l.error,
            "). It is built next to the gps binary; a bundle made for the GPU check leaves it out on purpose. "
            "Set GPS_PLUGIN_DIR to the folder that holds it");
  void* f = dlsym(l.handle, sym);
  GPS_CHECK(f != nullptr, "plugin ", l.path, " has no function ", sym, " (built from another gps version?)");
  return reinterpret_cast<Fn>(f);
}

constexpr size_t kErrLen = 2048;

}  // namespace

cv::Mat imread(const std::string& path, int flags, std::string* why) {
  static const auto fn = symbol<decltype(&gps_imread_v1)>("imgcodecs", "gps_imread_v1", "reading image files");
  cv::Mat m;
  char err[kErrLen] = {0};
  if (fn(path.c_str(), flags, &m, err, kErrLen) != 0) {
    *why = str_cat("cannot decode (OpenCV: ", err, ")");
    return {};
  }
  if (m.empty()) *why = "cannot decode (not an image format OpenCV reads, or a damaged file)";
  return m;
}

cv::Mat imdecode(const unsigned char* data, size_t size, int flags, std::string* why) {
  static const auto fn = symbol<decltype(&gps_imdecode_v1)>("imgcodecs", "gps_imdecode_v1", "decoding images");
  cv::Mat m;
  char err[kErrLen] = {0};
  if (fn(data, size, flags, &m, err, kErrLen) != 0) {
    *why = str_cat("cannot decode (OpenCV: ", err, ")");
    return {};
  }
  if (m.empty()) *why = "cannot decode (not an image format OpenCV reads, or damaged bytes)";
  return m;
}

std::vector<unsigned char> imencode_jpeg(const cv::Mat& image, int quality) {
  static const auto fn =
      symbol<decltype(&gps_imencode_jpeg_v1)>("imgcodecs", "gps_imencode_jpeg_v1", "encoding JPEG images");
  std::vector<unsigned char> out;
  char err[kErrLen] = {0};
  GPS_CHECK(fn(&image, quality, &out, err, kErrLen) == 0, "cannot encode a JPEG image: ", err);
  return out;
}

OnnxNet::OnnxNet(const std::string& path) {
  static const auto open = symbol<decltype(&gps_onnx_open_v1)>("onnx", "gps_onnx_open_v1", "an ONNX prior");
  char err[kErrLen] = {0};
  GPS_CHECK(open(path.c_str(), &net_, err, kErrLen) == 0, "prior.path: ", path,
            " is not a readable ONNX model (export with torch.onnx.export, opset <= 13 is safest for OpenCV 4.6): ",
            err);
}

OnnxNet::~OnnxNet() {
  static const auto close = symbol<decltype(&gps_onnx_close_v1)>("onnx", "gps_onnx_close_v1", "an ONNX prior");
  if (net_ != nullptr) close(net_);
}

cv::Mat OnnxNet::forward(const cv::Mat& input) {
  static const auto fwd = symbol<decltype(&gps_onnx_forward_v1)>("onnx", "gps_onnx_forward_v1", "an ONNX prior");
  cv::Mat out;
  char err[kErrLen] = {0};
  GPS_CHECK(fwd(net_, &input, &out, err, kErrLen) == 0, err);
  return out;
}

std::string location(const std::string& name) { return load(name).path; }

}  // namespace gps::plugins
