// Neighbour-table build at scale: wall time, peak RSS and recall@k of the
// table against an exact search on a sample of rows. Synthetic data: a
// Gaussian mixture with low-dimensional structure inside each component,
// so that nearest neighbours mean something (like class-structured embeddings).
//
//   build/bench/bench_table_scale n=60000 d=784 neighbors.index=exact
//   build/bench/bench_table_scale n=1000000 d=128 neighbors.index=ivf
//
// Arguments: key=value. Bench keys: n, d, clusters (1000), latent (16),
// queries (1000, rows checked against exact search), threads (2), seed (0),
// separation (100: percent scale of the component centres; lower = components
// overlap more = a harder search).
// Any other key is a config key (neighbors.k, neighbors.index, ...).
#include "bench_util.h"
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/neighbors/candidate_rules.h"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace {

// n points in d dims: centre of one of `clusters` components + a point of a
// `latent`-dim Gaussian mapped by the component's random linear map + noise.
torch::Tensor mixture(int64_t n, int64_t d, int64_t clusters, int64_t latent, double separation, uint64_t seed) {
  torch::manual_seed(seed);
  const auto centres = torch::randn({clusters, d}) * separation;
  const auto maps = torch::randn({clusters, latent, d}) / std::sqrt(double(latent));
  auto x = torch::empty({n, d});
  const int64_t chunk = 4096;  // bounds the per-point maps gathered for bmm
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t m = std::min(chunk, n - s);
    const auto which = torch::randint(0, clusters, {m}, torch::kInt64);
    const auto z = torch::randn({m, 1, latent}) * 0.5;
    auto xs = centres.index_select(0, which) + torch::bmm(z, maps.index_select(0, which)).squeeze(1) +
              torch::randn({m, d}) * 0.05;
    x.slice(0, s, s + m).copy_(xs);
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::map<std::string, int64_t> b = {{"n", 60000}, {"d", 784},    {"clusters", 1000}, {"latent", 16},
                                        {"queries", 1000}, {"threads", 2}, {"seed", 0}, {"separation", 100}};
    gps::Config cfg;
    cfg.neighbors.rules.k = 10;
    cfg.neighbors.rules.exclude_self = true;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const auto eq = a.find('=');
      GPS_CHECK(eq != std::string::npos, "argument '", a, "': expected key=value");
      const std::string key = a.substr(0, eq), value = a.substr(eq + 1);
      if (b.count(key))
        b[key] = std::stoll(value);
      else
        cfg.set(key, value);
    }
    cfg.validate();
    omp_set_num_threads(int(b["threads"]));
    torch::set_num_threads(int(b["threads"]));
    const int64_t n = b["n"], d = b["d"];

    auto t0 = std::chrono::steady_clock::now();
    const auto x = mixture(n, d, b["clusters"], b["latent"], double(b["separation"]) / 100.0, uint64_t(b["seed"]));
    const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double data_rss = gps::bench::status_mib("VmRSS");

    const auto rules = cfg.neighbors.rules;
    const auto search = gps::search_options(cfg.neighbors);
    t0 = std::chrono::steady_clock::now();
    const auto t = gps::build_table(x, rules, search);
    const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double peak = gps::bench::status_mib("VmHWM");

    // Recall@k of the table's other-image candidates against an exact search
    // of evenly spaced rows (the table keeps at most k others per row).
    const int64_t q = std::min(b["queries"], n), k = cfg.neighbors.rules.k;
    const int64_t others = rules.exclude_self ? k : k - 1;
    const auto rows = torch::arange(q, torch::kInt64) * (n / q);
    gps::SearchOptions exact;
    exact.metric = cfg.neighbors.search.metric;
    const auto ex = gps::knn_search(x, x.index_select(0, rows), others + 1, exact);
    int64_t hits = 0, total = 0;
    for (int64_t r = 0; r < q; ++r) {
      const int64_t i = rows[r].item<int64_t>();
      std::set<int64_t> truth;
      for (int64_t c = 0; c <= others && int64_t(truth.size()) < others; ++c) {
        const int64_t j = ex.ids[r][c].item<int64_t>();
        if (j != i) truth.insert(j);
      }
      for (int64_t c = 0; c < t.counts[i].item<int64_t>(); ++c) hits += truth.count(t.ids[i][c].item<int64_t>());
      total += int64_t(truth.size());
    }
    const double recall = double(hits) / double(total);

    std::printf("n=%lld d=%lld separation=%lld%% k=%lld threads=%lld search=%s\n", static_cast<long long>(n),
                static_cast<long long>(d), static_cast<long long>(b["separation"]), static_cast<long long>(k),
                static_cast<long long>(b["threads"]),
                gps::describe_search(search, n).c_str());
    std::printf("data: %.1f s to generate, %.0f MiB resident\n", gen_s, data_rss);
    std::printf("table build: %.1f s, peak RSS (VmHWM) %.0f MiB\n", build_s, peak);
    std::printf("recall@%lld vs exact on %lld rows: %.4f\n", static_cast<long long>(others), static_cast<long long>(q),
                recall);
    std::printf("mean candidates per row: %.2f\n", t.counts.to(torch::kFloat64).mean().item<double>());
    if (!t.search.empty()) std::printf("search: %s\n", t.search.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_table_scale: %s\n", e.what());
    return 1;
  }
}
