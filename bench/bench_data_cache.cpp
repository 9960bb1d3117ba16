// Data loading benchmark:
//  1. resident memory of a CIFAR-10-format dataset (50k x 3 x 32 x 32 by
//     default; goal ~150 MB, at most 2x);
//  2. an image folder of synthetic PNGs (5k x 64 x 64 by default) loaded cold
//     (decoding every file) vs from the decoded-image cache (goal >= 10x).
// Writes its files under a temporary folder and removes them.
//   build/bench/bench_data_cache [--images N] [--png-size P] [--image-size S]
//                                [--cifar N] [--threads T] [--keep DIR]
#include "bench_util.h"
#include "gps/core/threads.h"
#include "gps/data/image_cache.h"
#include "gps/data/image_files.h"
#include "gps/data/image_folder.h"
#include "gps/data/registry.h"
#include "gps/io/image.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void write_cifar(const std::string& dir, int64_t n) {
  fs::create_directories(dir);
  std::mt19937 rng(1);
  std::string rec(3073, '\0');
  const int64_t per_file = (n + 4) / 5;
  for (int b = 0; b < 5; ++b) {
    std::ofstream f(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", std::ios::binary);
    for (int64_t i = b * per_file; i < std::min(n, (b + 1) * per_file); ++i) {
      for (auto& c : rec) c = char(rng());
      rec[0] = char(i % 10);
      f.write(rec.data(), rec.size());
    }
  }
  std::ofstream(dir + "/test_batch.bin", std::ios::binary).write(rec.data(), rec.size());
}

}  // namespace

int main(int argc, char** argv) {
  int64_t images = 5000, png_size = 64, image_size = 64, cifar = 50000, threads = 0;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int64_t v = std::atoll(argv[i + 1]);
    if (a == "--images") images = v;
    else if (a == "--png-size") png_size = v;
    else if (a == "--image-size") image_size = v;
    else if (a == "--cifar") cifar = v;
    else if (a == "--threads") threads = v;
    else if (a == "--keep") keep = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int used_threads = gps::set_threads(int(threads));
  const fs::path dir = keep.empty() ? fs::temp_directory_path() / ("gps-bench-data-" + std::to_string(::getpid()))
                                    : fs::path(keep);
  fs::create_directories(dir);
  std::printf("bench_data_cache: %d threads, files under %s\n", used_threads, dir.c_str());

  // 1. CIFAR-format resident memory.
  {
    write_cifar((dir / "cifar").string(), cifar);
    gps::DataConfig cfg;
    cfg.name = "cifar10";
    cfg.root = (dir / "cifar").string();
    const double before = gps::bench::status_mib("VmRSS");
    const auto t0 = std::chrono::steady_clock::now();
    const gps::Dataset d = gps::load_dataset(cfg, "train");
    const double secs = seconds_since(t0);
    const double after = gps::bench::status_mib("VmRSS");
    const double payload = double(d.all_images().numel() + d.labels.numel() * 8) / (1024.0 * 1024.0);
    std::printf("cifar10 format: %lld images loaded in %.2f s; VmRSS %.1f -> %.1f MB: +%.1f MB for %.1f MB of "
                "pixels+labels (%.2fx)\n",
                static_cast<long long>(d.size()), secs, before, after, after - before, payload,
                (after - before) / payload);
  }

  // 2. Image folder: cold decode vs cache.
  {
    const auto img_dir = dir / "folder";
    std::mt19937 rng(2);
    std::vector<std::string> paths;
    for (int64_t i = 0; i < images; ++i) {
      // Smooth gradients plus noise: PNG-compressible like photos, not constant.
      auto t = torch::empty({3, png_size, png_size}, torch::kUInt8);
      auto* p = t.data_ptr<uint8_t>();
      const int off = int(rng() % 256);
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < png_size; ++y)
          for (int64_t x = 0; x < png_size; ++x)
            *p++ = uint8_t((off + c * 60 + y * 2 + x + int(rng() % 16)) & 255);
      const auto path = (img_dir / ("c" + std::to_string(i % 10)) / (std::to_string(i) + ".png")).string();
      fs::create_directories(fs::path(path).parent_path());
      gps::save_png(path, t);
    }
    gps::DataConfig cfg;
    cfg.name = "folder";
    cfg.root = img_dir.string();
    cfg.image_size = image_size;
    cfg.cache_dir = "";
    auto t0 = std::chrono::steady_clock::now();
    const auto cold = gps::load_dataset(cfg, "train");
    const double t_decode = seconds_since(t0);
    cfg.cache_dir = (dir / "cache").string();
    t0 = std::chrono::steady_clock::now();
    gps::load_dataset(cfg, "train");
    const double t_first = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const auto warm = gps::load_dataset(cfg, "train");
    const double t_cache = seconds_since(t0);
    // Where the cached load spends its time.
    t0 = std::chrono::steady_clock::now();
    const auto files = gps::image_files_under(img_dir.string());
    const double t_scan = seconds_since(t0);
    const auto opts = gps::image_decode_options(cfg);
    t0 = std::chrono::steady_clock::now();
    const uint64_t key = gps::image_cache_key(files, opts, "bench");
    const double t_key = seconds_since(t0);
    gps::DecodedImages raw;
    std::string why;
    t0 = std::chrono::steady_clock::now();
    const bool hit = gps::read_image_cache(gps::image_cache_file(opts.cache_dir, key), key, int64_t(files.size()),
                                           opts.channels, opts.size, raw, &why);
    const double t_raw = seconds_since(t0);
    std::vector<float> mean, stdev;
    t0 = std::chrono::steady_clock::now();
    gps::compute_channel_stats(warm.all_images(), mean, stdev);
    const double t_stats = seconds_since(t0);
    const bool same = torch::equal(cold.all_images(), warm.all_images()) && torch::equal(cold.labels, warm.labels);
    std::printf("image folder: %lld PNGs %lldx%lld -> %lld px: decode %.2f s, first run with cache (decode + "
                "write) %.2f s, from cache %.3f s: %.1fx faster than decoding (%s)\n",
                static_cast<long long>(images), static_cast<long long>(png_size), static_cast<long long>(png_size),
                static_cast<long long>(image_size), t_decode, t_first, t_cache, t_decode / t_cache,
                same ? "identical tensors" : "MISMATCH");
    std::printf("  cached load, parts: scan folder %.3f s, stat files + key %.3f s, read + CRC cache file %.3f s%s "
                "(channel statistics, %.3f s, are computed when decoding and stored in the cache)\n",
                t_scan, t_key, t_raw, hit ? "" : " (NOT a hit)", t_stats);
    if (!same) return 1;
  }
  if (keep.empty()) fs::remove_all(dir);
  return 0;
}
