#include "gps/prior/embedding_cache.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/io/fs.h"
#include "gps/io/npy.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace gps {

namespace fs = std::filesystem;

CachedPrior::CachedPrior(std::unique_ptr<Prior> inner, std::string cache_dir)
    : inner_(std::move(inner)), dir_(std::move(cache_dir)) {}

std::string CachedPrior::key(const Dataset& d) const {
  return str_cat("prior=", inner_->describe(), ";data=", d.name, "@", hex64(fingerprint(d)), ";n=", d.size(),
                 ";format=1");
}

std::string CachedPrior::npy_path(const Dataset& d) const {
  uint64_t h = 0;
  for (unsigned char c : key(d)) h = mix64(h ^ c);
  return (fs::path(dir_) / ("embeddings-" + hex64(h) + ".npy")).string();
}

torch::Tensor CachedPrior::embed(const Dataset& d) const {
  const std::string k = key(d);
  const std::string npy = npy_path(d);
  const std::string meta = fs::path(npy).replace_extension(".json").string();
  if (fs::exists(meta)) {
    try {
      std::ifstream f(meta);
      const auto j = nlohmann::json::parse(f);
      if (j.value("key", "") == k) {
        GPS_CHECK(j.value("crc32", "") == file_crc32(npy), npy, ": CRC-32 differs from the one in ", meta,
                  " (a damaged file)");
        auto e = load_npy(npy);
        GPS_CHECK(e.scalar_type() == torch::kFloat32 && e.dim() == 2 && e.size(0) == d.size(), npy,
                  ": expected float32 [", d.size(), ", D], got ", e.scalar_type(), " ", e.sizes());
        std::fprintf(stderr, "[gps] prior embeddings of %s reused from %s\n", d.name.c_str(), npy.c_str());
        return e;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "[gps] ignoring the damaged embeddings cache %s (%s); recomputing\n", npy.c_str(), e.what());
    }
  }
  auto e = inner_->embed(d);
  fs::create_directories(dir_);
  fs::remove(meta);
  save_npy(npy, e.contiguous());  // atomic
  atomic_write_text(meta,
                    nlohmann::json{{"key", k}, {"rows", e.size(0)}, {"dim", e.size(1)}, {"crc32", file_crc32(npy)}}
                            .dump(2) + "\n",
                    false);
  std::fprintf(stderr, "[gps] prior embeddings of %s saved to %s\n", d.name.c_str(), npy.c_str());
  return e;
}

}  // namespace gps
