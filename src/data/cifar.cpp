#include "gps/data/cifar.h"

#include "gps/core/check.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gps {

namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr const char* kCifarHint =
    "\n---> HINT: the CIFAR binary version has records of <label byte(s)> + 3072 pixel bytes (R, G, B planes "
    "of 32x32); download cifar-10-binary.tar.gz / cifar-100-binary.tar.gz, not the python version";

}  // namespace

void read_cifar_files(const std::vector<std::string>& files, const CifarFormat& fmt, torch::Tensor& images,
                      torch::Tensor& labels) {
  namespace fs = std::filesystem;
  const int64_t rec = fmt.label_bytes + kPixels;
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    GPS_CHECK(fs::is_regular_file(f, ec), "cannot open ", f, " (does it exist?)", kCifarHint);
    const auto bytes = int64_t(fs::file_size(f, ec));
    GPS_CHECK(!ec, "cannot read the size of ", f, ": ", ec.message());
    GPS_CHECK(bytes > 0, f, ": empty file, expected ", rec, "-byte records", kCifarHint);
    const int64_t whole = bytes / rec, rest = bytes % rec;
    GPS_CHECK(rest == 0, f, ": truncated record ", whole, " at byte offset ", whole * rec, ": ", rest, " of ", rec,
              " bytes present (", bytes, " bytes = ", whole, " whole ", rec, "-byte records + ", rest, ")", kCifarHint);
    counts.push_back(whole);
    total += whole;
  }
  images = torch::empty({total, 3, 32, 32}, torch::kUInt8);
  labels = torch::empty({total}, torch::kInt64);
  auto* img = images.data_ptr<uint8_t>();
  auto* lab = labels.data_ptr<int64_t>();
  constexpr int64_t kChunk = 1024;  // records read at a time
  std::vector<char> buf(size_t(kChunk * rec));
  int64_t row = 0;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    std::ifstream in(files[fi], std::ios::binary);
    GPS_CHECK(in, "cannot open ", files[fi]);
    for (int64_t r0 = 0; r0 < counts[fi]; r0 += kChunk) {
      const int64_t n = std::min(kChunk, counts[fi] - r0);
      GPS_CHECK(in.read(buf.data(), std::streamsize(n * rec)), files[fi], ": read failed at record ", r0);
      for (int64_t i = 0; i < n; ++i) {
        const auto* p = reinterpret_cast<const unsigned char*>(buf.data() + i * rec);
        const int64_t y = p[fmt.label_index];
        GPS_CHECK(y < fmt.num_classes, files[fi], ": record ", r0 + i, " (byte offset ", (r0 + i) * rec, ") has label ",
                  y, ", out of range [0, ", fmt.num_classes, ")", kCifarHint);
        lab[row] = y;
        std::memcpy(img + row * kPixels, p + fmt.label_bytes, kPixels);
        ++row;
      }
    }
  }
}

Dataset load_cifar(const DataConfig& cfg, const std::string& split) {
  namespace fs = std::filesystem;
  const bool c100 = cfg.name == "cifar100";
  GPS_CHECK(split == "train" || split == "test", "data.name=", cfg.name, ": unknown split '", split,
            "' (expected train or test)");
  GPS_CHECK(!c100 || cfg.cifar100_labels == "fine" || cfg.cifar100_labels == "coarse",
            "data.cifar100_labels: expected fine or coarse, got '", cfg.cifar100_labels, "'");
  const std::string sub = c100 ? "cifar-100-binary" : "cifar-10-batches-bin";
  const std::string probe = c100 ? "train.bin" : "data_batch_1.bin";
  std::string dir = cfg.root;
  if (!fs::exists(fs::path(dir) / probe) && fs::is_directory(fs::path(dir) / sub)) dir = (fs::path(dir) / sub).string();
  GPS_CHECK(fs::is_directory(dir), "data.root: folder ", cfg.root, " does not exist",
            "\n---> HINT: extract ", c100 ? "cifar-100-binary.tar.gz" : "cifar-10-binary.tar.gz",
            " from https://www.cs.toronto.edu/~kriz/cifar.html and point data.root at ", sub);
  std::vector<std::string> files;
  if (c100) {
    files.push_back((fs::path(dir) / (split + ".bin")).string());
  } else if (split == "train") {
    for (int i = 1; i <= 5; ++i) files.push_back((fs::path(dir) / str_cat("data_batch_", i, ".bin")).string());
  } else {
    files.push_back((fs::path(dir) / "test_batch.bin").string());
  }
  CifarFormat fmt;
  if (c100) {
    fmt.label_bytes = 2;
    fmt.label_index = cfg.cifar100_labels == "coarse" ? 0 : 1;
    fmt.num_classes = cfg.cifar100_labels == "coarse" ? 20 : 100;
  }
  Dataset d;
  torch::Tensor images;
  read_cifar_files(files, fmt, images, d.labels);
  d.set_images(images);
  d.name = cfg.name + "/" + split;
  d.num_classes = fmt.num_classes;
  d.split = split;
  d.source_size = d.size();
  // Fixed statistics of the train split (docs/reference-behaviour.md §5 for CIFAR-10).
  if (c100) {
    d.mean = {0.5071f, 0.4865f, 0.4409f};
    d.std = {0.2673f, 0.2564f, 0.2762f};
  } else {
    d.mean = {0.4914f, 0.4822f, 0.4465f};
    d.std = {0.2470f, 0.2435f, 0.2616f};
  }
  d.validate();
  return d;
}

}  // namespace gps
