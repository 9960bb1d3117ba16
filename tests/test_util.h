// Helpers shared by the tests: temporary folders and files in real formats.
#pragma once

#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/methods/method.h"
#include "gps/train/checkpoint.h"
#include "gps/train/trainer.h"

#include <gtest/gtest.h>

#include <torch/torch.h>
#include <zlib.h>

#include <sys/resource.h>
#include <sys/wait.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <functional>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace gps::test {

// A fresh temporary folder, removed when the object dies.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("gps-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Sets environment variables for the life of the object, then restores them.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k);
      saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      if (v) ::setenv(k, v, 1);
      else ::unsetenv(k);
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), bytes.size());
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_gz(const std::string& path, const std::string& bytes) {
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(g);
}

// IDX bytes: 00 00 08 rank, big-endian dims, then the payload.
inline std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string s = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    s.push_back(static_cast<char>(d >> 24));
    s.push_back(static_cast<char>(d >> 16));
    s.push_back(static_cast<char>(d >> 8));
    s.push_back(static_cast<char>(d));
  }
  s.append(data.begin(), data.end());
  return s;
}

// Writes a tiny Fashion-MNIST-layout folder (gzipped IDX files) with n_train /
// n_test images of size hw x hw and labels cycling over 10 classes. Images
// of class c are noisy versions of a class template, so classes are learnable.
inline void write_tiny_mnist(const std::string& dir, int n_train, int n_test, int hw = 8) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(123);
  auto make = [&](int n, const std::string& prefix) {
    std::vector<uint8_t> img(size_t(n) * hw * hw), lab(n);
    for (int i = 0; i < n; ++i) {
      const int c = i % 10;
      lab[i] = static_cast<uint8_t>(c);
      for (int p = 0; p < hw * hw; ++p) {
        const int base = ((p * 7 + c * 13) % 10) * 25;
        img[size_t(i) * hw * hw + p] = static_cast<uint8_t>(std::clamp<int>(base + int(rng() % 40) - 20, 0, 255));
      }
    }
    write_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", idx_bytes({uint32_t(n), uint32_t(hw), uint32_t(hw)}, img));
    write_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", idx_bytes({uint32_t(n)}, lab));
  };
  make(n_train, "train");
  make(n_test, "t10k");
}

// The message of the gps::Error that f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gps::Error& e) {
    return e.what();
  }
  return "";
}

// The built-in methods (method.name), for tests that run each: the
// registry of a test binary may hold test methods as well.
inline const std::vector<std::string>& builtin_methods() {
  static const std::vector<std::string> names = {"simclr", "byol",    "nnclr",   "barlow_twins", "vicreg",
                                                 "mocov3", "simsiam", "dino",    "swav"};
  return names;
}

// A configuration that trains in a fraction of a second on write_tiny_mnist
// data in `data_root`: width-2 ResNet, tiny heads, batch 20, one thread.
// Relative tolerance between two trainings that differ only in summation
// order (2 processes against 1, resumed against uninterrupted, another CPU's
// kernels), both in train.precision=fp64. Derivation: one rounding is
// ~1.1e-16; the float32 runs of these tests showed such a difference growing
// about 1e3-fold over 8 steps (1e-7 at step 1 to 1.3e-4 at step 8 on an
// AVX2-only EPYC), and over 24 steps at lr 0.01 no more than 1e4-fold, so in
// float64 it stays below ~1e-12. 1e-9 leaves a margin of 1000 and is 1e5
// times stricter than the float32 tests could be; a missing gather or an
// unshared queue moves the loss at its first step by 1e-3 or more.
constexpr double kSameTrajectoryRelTol = 1e-9;

inline Config tiny_train_config(const std::string& data_root, const std::string& out_dir, int64_t epochs = 2) {
  Config c;
  c.data.root = data_root;
  c.model.width = 2;
  c.method.proj_hidden_dim = 16;
  c.method.proj_output_dim = 8;
  c.optim.batch_size = 20;
  c.optim.epochs = epochs;
  c.optim.warmup_epochs = epochs > 1 ? 1 : 0;
  c.train.out_dir = out_dir;
  c.train.threads = 1;
  c.train.progress = false;
  c.train.log_every = 1;
  c.eval.linear_epochs = 2;
  c.eval.knn_k = 5;
  return c;
}

// The `gps` executable's exit code and output (stderr merged unless
// `with_stderr` is false).
struct GpsRun {
  int code;
  std::string output;
};
inline GpsRun run_gps(const std::string& args, bool with_stderr = true) {
  const std::string cmd = std::string(GPS_BINARY_DIR) + "/gps " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  GpsRun r{-1, ""};
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Every parameter and buffer of the method in a run's checkpoint.pt (gray images).
inline std::vector<torch::Tensor> weights_of(const Config& c, const std::string& run_dir) {
  Method m = make_method(c.method, c.model, 1);
  load_method_weights(run_dir + "/checkpoint.pt", *m);
  std::vector<torch::Tensor> out;
  for (auto& p : m->parameters()) out.push_back(p.detach().clone());
  for (auto& b : m->buffers()) out.push_back(b.detach().clone());
  return out;
}

inline bool bit_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

// A width-2 ResNet-18: the smallest backbone of the method tests.
inline ModelConfig tiny_model() {
  ModelConfig m;
  m.width = 2;
  return m;
}

// Proposition 1: GPS whose table holds only each image (k = 1) trains the
// weights of plain SSL, bit for bit; GPS with neighbours (k = 4) trains
// other ones. `plain`: any run config (gps and eval are set here).
inline void expect_self_table_is_plain(Config plain) {
  plain.gps = false;
  plain.eval.enabled = false;
  plain.train.name = "plain";
  Config gps = plain;
  gps.gps = true;
  gps.neighbors.rules.k = 1;
  gps.train.name = "gps";
  const auto a = train(plain, "test"), b = train(gps, "test");
  EXPECT_TRUE(std::isfinite(a.final_loss));
  EXPECT_TRUE(bit_identical(weights_of(plain, a.run_dir), weights_of(gps, b.run_dir)));
  Config k4 = gps;
  k4.neighbors.rules.k = 4;
  k4.train.name = "k4";
  const auto c = train(k4, "test");
  EXPECT_FALSE(bit_identical(weights_of(plain, a.run_dir), weights_of(k4, c.run_dir)));
}

// A full disk, as RLIMIT_FSIZE makes it: while alive, no file of this
// process may grow past `bytes` (SIGXFSZ ignored, so the write fails with
// EFBIG and gps reports it).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = SIG_DFL;
};

}  // namespace gps::test
