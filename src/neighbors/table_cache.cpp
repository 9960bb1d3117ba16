#include "gps/neighbors/table_cache.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace gps {

std::string table_fingerprint(const Prior& prior, const Dataset& d, const NeighborConfig& cfg) {
  char data_hex[17];
  std::snprintf(data_hex, sizeof(data_hex), "%016llx", static_cast<unsigned long long>(fingerprint(d)));
  return str_cat("prior=", prior.describe(), ";data=", d.name, "@", data_hex, ";n=", d.size(), ";k=", cfg.k,
                 ";exclude_self=", cfg.exclude_self, ";metric=", cfg.metric, ";format=1");
}

NeighborTable obtain_table(const Prior& prior, const Dataset& d, const NeighborConfig& cfg,
                           const std::string& cache_root, TableInfo* info) {
  const auto t0 = std::chrono::steady_clock::now();
  TableInfo local;
  TableInfo& inf = info ? *info : local;
  inf.fingerprint = table_fingerprint(prior, d, cfg);
  uint64_t h = 0;
  for (unsigned char c : inf.fingerprint) h = mix64(h ^ c);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  inf.dir = (std::filesystem::path(cache_root) / (std::string("neighbors-") + hex)).string();
  NeighborTable t;
  inf.reused = cfg.cache && load_table(inf.dir, inf.fingerprint, t);
  if (!inf.reused) {
    const int64_t others = cfg.exclude_self ? cfg.k : cfg.k - 1;
    GPS_CHECK(others < d.size(), "neighbors.k = ", cfg.k, " is too large for ", d.size(), " training images");
    t = build_table(prior.embed(d), cfg.k, cfg.exclude_self, cfg.metric);
    if (cfg.cache) save_table(inf.dir, t, inf.fingerprint);
  }
  t.validate(d.size(), inf.dir);
  inf.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace gps
