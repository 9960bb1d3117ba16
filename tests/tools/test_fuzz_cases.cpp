// Regression cases of the fuzz harnesses (fuzz/, scripts/fuzz.sh): every file
// in tests/fuzz_cases/<target>/ — the seeds and every input a fuzzer found —
// must parse or be rejected with gps::Error, never crash or throw anything else.
#include "test_util.h"

#include "gps/config/config.h"
#include "gps/data/cifar.h"
#include "gps/data/idx.h"
#include "gps/io/npy.h"
#include "gps/io/npz.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Runs `reader` on every case of `target`; returns how many there were.
int run_cases(const std::string& target, const std::function<void(const fs::path&)>& reader) {
  const fs::path dir = fs::path(GPS_SOURCE_DIR) / "tests" / "fuzz_cases" / target;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++n;
    try {
      reader(e.path());
    } catch (const gps::Error&) {
      // a clear rejection: fine
    } catch (const std::exception& ex) {
      ADD_FAILURE() << e.path() << ": threw a non-gps exception: " << ex.what();
    }
  }
  return n;
}

TEST(FuzzCases, Idx) {
  EXPECT_GT(run_cases("idx", [](const fs::path& p) {
              try {
                gps::parse_idx(slurp(p), p.string());
              } catch (const gps::Error&) {
              }
              gps::read_idx(p.string());
            }),
            0);
}

TEST(FuzzCases, Npy) {
  EXPECT_GT(run_cases("npy", [](const fs::path& p) { gps::parse_npy(slurp(p), p.string()); }), 0);
}

TEST(FuzzCases, Npz) {
  EXPECT_GT(run_cases("npz", [](const fs::path& p) { gps::load_npz(p.string()); }), 0);
}

TEST(FuzzCases, Cifar) {
  EXPECT_GT(run_cases("cifar",
                      [](const fs::path& p) {
                        torch::Tensor images, labels;
                        gps::CifarFormat c100;
                        c100.label_bytes = 2;
                        c100.label_index = 1;
                        c100.num_classes = 100;
                        try {
                          gps::read_cifar_files({p.string()}, gps::CifarFormat{}, images, labels);
                        } catch (const gps::Error&) {
                        }
                        gps::read_cifar_files({p.string()}, c100, images, labels);
                      }),
            0);
}

TEST(FuzzCases, Config) {
  EXPECT_GT(run_cases("config",
                      [](const fs::path& p) {
                        gps::Config c;
                        c.merge_yaml_text(slurp(p), p.string());
                        c.validate();
                        c.to_yaml();
                      }),
            0);
}

}  // namespace
