// Tiny files in each dataset's real format, written on the fly: the reader
// tests (test_data_formats.cpp) and the image-store tests
// (test_image_store.cpp) share them.
#pragma once

#include "gps/data/registry.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gps::fixtures {

namespace fs = std::filesystem;


// Pixel (channel c, row y, column x) of CIFAR test image i.
inline uint8_t cifar_pixel(int i, int c, int y, int x) { return uint8_t((i * 31 + c * 101 + y * 7 + x * 3) & 255); }

// `n` records starting at image index `first`: label bytes, then R, G, B planes.
inline std::string cifar_records(int first, int n, bool cifar100) {
  std::string s;
  for (int i = first; i < first + n; ++i) {
    if (cifar100) s.push_back(char(i % 20));  // coarse
    s.push_back(char(cifar100 ? (i * 7) % 100 : i % 10));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) s.push_back(char(cifar_pixel(i, c, y, x)));
  }
  return s;
}

// cifar-10-batches-bin with 3 images per train batch and 4 test images.
inline std::string write_cifar10(const test::TempDir& tmp) {
  const auto dir = tmp.file("cifar-10-batches-bin");
  fs::create_directories(dir);
  for (int b = 0; b < 5; ++b)
    test::write_bytes(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", cifar_records(3 * b, 3, false));
  test::write_bytes(dir + "/test_batch.bin", cifar_records(100, 4, false));
  return dir;
}

inline DataConfig data_config(const std::string& name, const std::string& root) {
  DataConfig c;
  c.name = name;
  c.root = root;
  c.cache_dir = "";
  return c;
}

// Writes an image from an RGB tensor [3, H, W] (or gray [1, H, W]) uint8 with OpenCV.
inline void write_image(const std::string& path, const torch::Tensor& chw, std::vector<int> params = {}) {
  fs::create_directories(fs::path(path).parent_path());
  auto hwc = chw.permute({1, 2, 0}).contiguous();
  const int C = int(chw.size(0));
  cv::Mat m(int(chw.size(1)), int(chw.size(2)), C == 3 ? CV_8UC3 : CV_8UC1, hwc.data_ptr<uint8_t>());
  cv::Mat out = m.clone();
  if (C == 3) {
    // RGB -> BGR, what imwrite expects.
    std::vector<cv::Mat> ch;
    cv::split(out, ch);
    std::swap(ch[0], ch[2]);
    cv::merge(ch, out);
  }
  ASSERT_TRUE(cv::imwrite(path, out, params)) << path;
}

inline torch::Tensor random_image(int64_t h, int64_t w, int seed, int64_t c = 3) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, {c, h, w}, torch::kInt64).to(torch::kUInt8);
}

inline torch::Tensor solid(int64_t h, int64_t w, uint8_t r, uint8_t g, uint8_t b) {
  auto t = torch::empty({3, h, w}, torch::kUInt8);
  t[0].fill_(r);
  t[1].fill_(g);
  t[2].fill_(b);
  return t;
}

inline int max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kInt32) - b.to(torch::kInt32)).abs().max().item<int>();
}



// A pathmnist-like RGB file (labels [N, 1] uint8) with 6/3/4 images of 5x7.
inline std::map<std::string, torch::Tensor> medmnist_rgb_arrays() {
  std::map<std::string, torch::Tensor> m;
  int seed = 10;
  for (auto [split, n] : {std::pair{"train", 6}, {"val", 3}, {"test", 4}}) {
    torch::manual_seed(seed++);
    m[std::string(split) + "_images"] = torch::randint(0, 256, {n, 5, 7, 3}, torch::kInt64).to(torch::kUInt8);
    m[std::string(split) + "_labels"] = (torch::arange(n, torch::kInt64) % 9).to(torch::kUInt8).reshape({n, 1});
  }
  return m;
}



// fgvc-aircraft-2013b/data with 4 images: top 16 rows white, bottom 20 rows
// black (the banner), 16 wide (edges on JPEG block boundaries).
inline std::string write_aircraft(const test::TempDir& tmp, bool with_variants) {
  const auto data = tmp.file("fgvc-aircraft-2013b/data");
  auto img = torch::cat({solid(16, 16, 255, 255, 255), solid(20, 16, 0, 0, 0)}, 1);
  for (auto id : {"0034309", "0056978", "1001234", "2200001"})
    write_image(data + "/images/" + id + ".jpg", img, {cv::IMWRITE_JPEG_QUALITY, 100});
  test::write_bytes(data + "/images_variant_train.txt", "0034309 Boeing 747-400\n0056978 A320\r\n");
  test::write_bytes(data + "/images_variant_test.txt", "1001234 A320\n2200001 F/A-18\n");
  if (with_variants) test::write_bytes(data + "/variants.txt", "Boeing 747-400\nF/A-18\nA320\n");
  return tmp.file("fgvc-aircraft-2013b");
}

}  // namespace gps::fixtures
