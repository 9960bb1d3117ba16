// Neighbour-table build and pair sampling throughput.
//   build/bench/bench_neighbors
#include "gps/neighbors/neighbor_table.h"
#include "gps/sampling/pair_sampler.h"

#include <benchmark/benchmark.h>

static void BM_BuildTableExact(benchmark::State& st) {
  torch::manual_seed(0);
  const auto emb = torch::randn({st.range(0), st.range(1)});
  for (auto _ : st) benchmark::DoNotOptimize(gps::build_table(emb, 4, false, "l2"));
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_BuildTableExact)->Args({10000, 784})->Unit(benchmark::kMillisecond);

static void BM_SampleEpoch(benchmark::State& st) {
  torch::manual_seed(0);
  const int64_t n = 60000, k = 9;
  gps::NeighborTable t;
  t.ids = torch::randint(0, n, {n, k}, torch::kInt64);
  t.dists = torch::zeros({n, k});
  t.counts = torch::full({n}, k, torch::kInt64);
  gps::PairSampler s(t, 256, 0);
  int64_t e = 0;
  for (auto _ : st) {
    auto order = s.epoch_order(e);
    for (int64_t b = 0; b < s.batches_per_epoch(); ++b) benchmark::DoNotOptimize(s.batch(e, order, b));
    ++e;
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_SampleEpoch)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
