#include "gps/data/image_files.h"

#include "gps/core/check.h"
#include "gps/data/dataset.h"
#include "gps/data/image_cache.h"
#include "gps/io/plugins.h"

#include <ATen/Parallel.h>
#include <opencv2/imgcodecs.hpp>  // the IMREAD_* flags; decoding is in the plugin
#include <opencv2/imgproc.hpp>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

namespace gps {

namespace {

int interpolation(int from_h, int from_w, int to_h, int to_w) {
  return (to_h <= from_h && to_w <= from_w) ? cv::INTER_AREA : cv::INTER_LINEAR;
}

cv::Mat resized(const cv::Mat& m, int h, int w) {
  if (m.rows == h && m.cols == w) return m;
  cv::Mat r;
  cv::resize(m, r, cv::Size(w, h), 0, 0, interpolation(m.rows, m.cols, h, w));
  return r;
}

// Scaled length of `len` when `from` becomes `to`, at least 1.
int scaled(int len, int from, int to) { return std::max(1, int(std::lround(double(len) * to / from))); }

std::string list_bad(const std::vector<std::string>& bad, size_t limit) {
  std::string s;
  for (size_t i = 0; i < bad.size() && i < limit; ++i) s += "\n  " + bad[i];
  if (bad.size() > limit) s += str_cat("\n  ... and ", bad.size() - limit, " more");
  return s;
}

// Applies the bad-image policy to a decoded (or cached) list.
void handle_bad(const DecodedImages& d, const ImageDecodeOptions& o, size_t listed, const std::string& what) {
  if (d.bad.empty()) return;
  GPS_CHECK(o.skip_bad, what, ": cannot decode ", d.bad.size(), " of ", listed, " image files:", list_bad(d.bad, 20),
            "\n---> HINT: remove or replace them, or set data.on_bad_image=skip to train without them");
  std::fprintf(stderr, "[gps] %s: skipped %zu undecodable image file(s) (data.on_bad_image=skip):%s\n", what.c_str(),
               d.bad.size(), list_bad(d.bad, d.bad.size()).c_str());
}

// Decodes file path_of(i) into row i of `out` ([n, C, S, S] uint8) for i in
// [0, n), in parallel over LibTorch's threads: ok[i] = 1, or 0 with why[i].
void decode_rows(const std::function<const std::string&(int64_t)>& path_of, int64_t n, const ImageDecodeOptions& o,
                 torch::Tensor& out, std::vector<char>& ok, std::vector<std::string>& why) {
  const int64_t row = o.channels * o.size * o.size;
  ok.assign(size_t(n), 0);
  why.assign(size_t(n), "");
  at::parallel_for(0, n, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const auto t = decode_image(path_of(i), o, &why[size_t(i)]);
      if (!t.defined()) continue;
      std::memcpy(out.data_ptr<uint8_t>() + i * row, t.data_ptr<uint8_t>(), size_t(row));
      ok[size_t(i)] = 1;
    }
  });
}

}  // namespace

void validate(const ImageDecodeOptions& o) {
  GPS_CHECK(o.size >= 1 && o.size <= 4096, "data.image_size: ", o.size, " out of range [1, 4096]");
  GPS_CHECK(o.channels == 1 || o.channels == 3, "data.channels: expected 1 (gray) or 3 (RGB), got ", o.channels);
  GPS_CHECK(o.resize == "stretch" || o.resize == "center-crop" || o.resize == "pad", "data.resize: '", o.resize,
            "' is not one of: stretch|center-crop|pad");
  GPS_CHECK(o.crop_bottom >= 0, "crop_bottom must be >= 0, got ", o.crop_bottom);
}

bool has_image_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"})
    if (ext == e) return true;
  return false;
}

torch::Tensor decode_image(const std::string& path, const ImageDecodeOptions& o, std::string* why) {
  cv::Mat m = plugins::imread(path, o.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR, why);
  if (m.empty()) return {};
  return fit_image(m, o, why);
}

torch::Tensor fit_image(cv::Mat m, const ImageDecodeOptions& o, std::string* why) {
  if (o.crop_bottom > 0) {
    if (m.rows <= o.crop_bottom) {
      *why = str_cat("image is ", m.rows, " rows high, not more than the ", o.crop_bottom, " bottom rows to cut");
      return {};
    }
    m = m.rowRange(0, m.rows - int(o.crop_bottom));
  }
  const int S = int(o.size);
  cv::Mat out;
  if (o.resize == "stretch") {
    out = resized(m, S, S);
  } else if (o.resize == "center-crop") {
    const int shorter = std::min(m.rows, m.cols);
    const int h = std::max(S, scaled(m.rows, shorter, S)), w = std::max(S, scaled(m.cols, shorter, S));
    cv::Mat r = resized(m, h, w);
    out = r(cv::Rect((w - S) / 2, (h - S) / 2, S, S));
  } else {  // pad
    const int longer = std::max(m.rows, m.cols);
    const int h = std::min(S, scaled(m.rows, longer, S)), w = std::min(S, scaled(m.cols, longer, S));
    cv::Mat r = resized(m, h, w);
    const int top = (S - h) / 2, left = (S - w) / 2;
    cv::copyMakeBorder(r, out, top, S - h - top, left, S - w - left, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  }
  if (o.channels == 3) cv::cvtColor(out, out, cv::COLOR_BGR2RGB);  // makes a continuous copy
  if (!out.isContinuous()) out = out.clone();
  const int C = int(o.channels);
  return torch::from_blob(out.data, {S, S, C}, torch::kUInt8).permute({2, 0, 1}).contiguous();
}

DecodedImages load_image_files(const std::vector<std::string>& paths, const ImageDecodeOptions& o,
                               const std::string& what) {
  validate(o);
  GPS_CHECK(!paths.empty(), what, ": no image files");
  const int64_t n = int64_t(paths.size()), C = o.channels, S = o.size;
  const uint64_t key = image_cache_key(paths, o, what);  // also checks that every file exists
  std::string cache_file;
  if (!o.cache_dir.empty()) {
    cache_file = image_cache_file(o.cache_dir, key);
    DecodedImages cached;
    std::string why;
    if (read_image_cache(cache_file, key, n, C, S, cached, &why)) {
      handle_bad(cached, o, paths.size(), what);
      return cached;
    }
    if (std::filesystem::exists(cache_file))
      std::fprintf(stderr, "[gps] %s: ignoring the image cache %s (%s); rebuilding it\n", what.c_str(),
                   cache_file.c_str(), why.c_str());
  }

  auto all = torch::empty({n, C, S, S}, torch::kUInt8);
  std::vector<std::string> why;
  std::vector<char> ok;
  decode_rows([&](int64_t i) -> const std::string& { return paths[size_t(i)]; }, n, o, all, ok, why);
  DecodedImages d;
  for (int64_t i = 0; i < n; ++i) {
    if (ok[i])
      d.kept.push_back(i);
    else
      d.bad.push_back(paths[i] + ": " + why[i]);
  }
  GPS_CHECK(!d.kept.empty(), what, ": none of the ", n, " image files could be decoded:", list_bad(d.bad, 20));
  handle_bad(d, o, paths.size(), what);
  d.images = int64_t(d.kept.size()) == n ? all : all.index_select(0, torch::tensor(d.kept, torch::kInt64)).contiguous();
  compute_channel_stats(d.images, d.mean, d.std);
  if (!cache_file.empty()) {
    try {
      write_image_cache(cache_file, key, n, d);
      d.cache_file = cache_file;
    } catch (const Error& e) {
      std::fprintf(stderr, "[gps] %s: not cached: %s\n", what.c_str(), e.what());
    }
  }
  return d;
}

namespace {

constexpr int64_t kScanBlock = 256;  // files decoded at a time by scan_image_files

class FileListSource final : public ImageSource {
 public:
  FileListSource(std::vector<std::string> paths, ImageDecodeOptions o) : paths_(std::move(paths)), o_(std::move(o)) {
    o_.on_read = false;
  }
  int64_t size() const override { return int64_t(paths_.size()); }
  std::array<int64_t, 3> shape() const override { return {o_.channels, o_.size, o_.size}; }
  torch::Tensor fetch(const torch::Tensor& index) const override {
    const auto idx = index.contiguous();
    const int64_t B = idx.size(0);
    const int64_t* rows = idx.data_ptr<int64_t>();
    for (int64_t i = 0; i < B; ++i)
      GPS_CHECK(rows[i] >= 0 && rows[i] < size(), "image files: row ", rows[i], " out of range [0, ", size(), ")");
    auto out = torch::empty({B, o_.channels, o_.size, o_.size}, torch::kUInt8);
    std::vector<std::string> why;
    std::vector<char> ok;
    decode_rows([&](int64_t i) -> const std::string& { return paths_[size_t(rows[i])]; }, B, o_, out, ok, why);
    for (int64_t i = 0; i < B; ++i)
      GPS_CHECK(ok[size_t(i)], paths_[size_t(rows[i])], ": ", why[size_t(i)], " (it decoded when the list was scanned)");
    return out;
  }
  uint32_t content_crc() const override {
    // The list and the decoding options (the pixels are not read for this).
    uLong crc = crc32(0L, Z_NULL, 0);
    for (const auto& p : paths_) crc = crc32(crc, reinterpret_cast<const Bytef*>(p.data()), uInt(p.size() + 1));
    const std::string opts = str_cat(o_.size, "/", o_.channels, "/", o_.resize, "/", o_.crop_bottom);
    return uint32_t(crc32(crc, reinterpret_cast<const Bytef*>(opts.data()), uInt(opts.size())));
  }
  std::string describe() const override { return str_cat(paths_.size(), " image files decoded when read"); }
  const std::vector<std::string>& paths() const { return paths_; }
  const ImageDecodeOptions& options() const { return o_; }

 private:
  std::vector<std::string> paths_;
  ImageDecodeOptions o_;
};

}  // namespace

ImageSourcePtr file_list_source(std::vector<std::string> paths, const ImageDecodeOptions& o) {
  validate(o);
  GPS_CHECK(!paths.empty(), "file_list_source: no image files");
  return std::make_shared<FileListSource>(std::move(paths), o);
}

bool file_list_of(const ImageSource& s, std::vector<std::string>* paths, ImageDecodeOptions* o) {
  const auto* f = dynamic_cast<const FileListSource*>(&s);
  if (f == nullptr) return false;
  *paths = f->paths();
  *o = f->options();
  return true;
}

DecodedImages scan_image_files(const std::vector<std::string>& paths, const ImageDecodeOptions& o,
                               const std::string& what) {
  validate(o);
  GPS_CHECK(!paths.empty(), what, ": no image files");
  image_cache_key(paths, o, what);  // checks that every file exists, naming the missing one
  const int64_t n = int64_t(paths.size()), C = o.channels, S = o.size;
  DecodedImages d;
  ChannelStats stats;
  for (int64_t s = 0; s < n; s += kScanBlock) {
    const int64_t m = std::min(kScanBlock, n - s);
    auto block = torch::empty({m, C, S, S}, torch::kUInt8);
    std::vector<std::string> why;
    std::vector<char> ok;
    decode_rows([&](int64_t i) -> const std::string& { return paths[size_t(s + i)]; }, m, o, block, ok, why);
    std::vector<int64_t> good;
    for (int64_t i = 0; i < m; ++i) {
      if (ok[size_t(i)]) {
        d.kept.push_back(s + i);
        good.push_back(i);
      } else {
        d.bad.push_back(paths[size_t(s + i)] + ": " + why[size_t(i)]);
      }
    }
    stats.add(int64_t(good.size()) == m ? block : block.index_select(0, torch::tensor(good, torch::kInt64)));
  }
  GPS_CHECK(!d.kept.empty(), what, ": none of the ", n, " image files could be decoded:", list_bad(d.bad, 20));
  handle_bad(d, o, paths.size(), what);
  stats.stats(d.mean, d.std);
  return d;
}

}  // namespace gps
