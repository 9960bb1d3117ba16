#include "gps/neighbors/table_cache.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/prior/file_priors.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace gps {

namespace {

// The extra priors of neighbors.extra_priors (comma-separated .npy paths).
std::vector<std::unique_ptr<Prior>> extra_priors(const NeighborConfig& cfg) {
  std::vector<std::unique_ptr<Prior>> out;
  std::string list = cfg.extra_priors;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    std::string path = list.substr(start, comma - start);
    path.erase(0, path.find_first_not_of(" \t"));
    path.erase(path.find_last_not_of(" \t") + 1);
    GPS_CHECK(!path.empty() || list.empty(), "neighbors.extra_priors: empty path in '", list, "'");
    if (!path.empty()) file_identity(path, "neighbors.extra_priors");  // throws, naming the key, when the file is missing
    if (!path.empty()) out.push_back(std::make_unique<NpyPrior>(path, ""));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string table_fingerprint(const Prior& prior, const Dataset& d, const NeighborConfig& cfg) {
  const std::string data_hex = hex64(fingerprint(d));
  // Everything that changes the table: prior(s), data, search, candidate rules.
  std::string fp = str_cat("prior=", prior.describe(), ";data=", d.name, "@", data_hex, ";n=", d.size(), ";k=", cfg.rules.k,
                           ";exclude_self=", cfg.rules.exclude_self, ";metric=", cfg.search.metric,
                           ";search=", describe_search(search_options(cfg), d.size()));
  if (cfg.rules.tau_mode == "fixed")
    fp += cfg.rules.tau >= 0 ? str_cat(";tau=", cfg.rules.tau) : std::string(";tau=none");
  else
    fp += str_cat(";tau=", cfg.rules.tau_mode, "(std=", cfg.rules.tau_std, ",window=", cfg.rules.tau_window, ")");
  fp += str_cat(";mutual=", cfg.rules.mutual);
  if (cfg.combine != "none") {
    fp += ";combine=" + cfg.combine + "(";
    for (const auto& p : extra_priors(cfg)) fp += p->describe() + ",";
    fp += ")";
  }
  return fp + ";format=2";
}

NeighborTable obtain_table(const Prior& prior, const Dataset& d, const NeighborConfig& cfg,
                           const std::string& cache_root, TableInfo* info) {
  const auto t0 = std::chrono::steady_clock::now();
  TableInfo local;
  TableInfo& inf = info ? *info : local;
  inf.fingerprint = table_fingerprint(prior, d, cfg);
  uint64_t h = 0;
  for (unsigned char c : inf.fingerprint) h = mix64(h ^ c);
  inf.dir = (std::filesystem::path(cache_root) / ("neighbors-" + hex64(h))).string();
  NeighborTable t;
  inf.reused = cfg.cache && load_table(inf.dir, inf.fingerprint, t);
  if (!inf.reused) {
    const int64_t others = cfg.rules.exclude_self ? cfg.rules.k : cfg.rules.k - 1;
    GPS_CHECK(others < d.size(), "neighbors.k = ", cfg.rules.k, " is too large for ", d.size(), " training images");
    const auto rules = cfg.rules;
    const auto search = search_options(cfg);
    if (cfg.combine == "none") {
      t = build_table(prior.embed(d), rules, search);
    } else {
      std::vector<torch::Tensor> embs = {prior.embed(d)};
      for (const auto& p : extra_priors(cfg)) embs.push_back(p->embed(d));
      t = build_table_multi(embs, rules, search, cfg.combine);
    }
    if (cfg.cache) save_table(inf.dir, t, inf.fingerprint);
  }
  t.validate(d.size(), inf.dir);
  inf.search = t.search;
  inf.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace gps
