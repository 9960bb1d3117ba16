// Throughput of the `strong` augmentation preset (RRC bicubic, colour jitter
// p=0.8, grayscale 0.2, blur 0.5, flip, normalisation), one torch thread, on
// random 3-channel uint8 images. items_per_second = images/s per core.
// Pin to one core so OpenCV's own thread pool cannot help:
//   taskset -c 0 build-dev/bench/bench_augment
// Peer: bench/bench_augment_torchvision.py (torchvision on PIL images).
#include "gps/augment/augment.h"

#include <benchmark/benchmark.h>

static void BM_StrongPreset(benchmark::State& st) {
  torch::set_num_threads(1);
  const int64_t size = st.range(0), batch = st.range(1);
  torch::manual_seed(0);
  const auto images = torch::randint(0, 256, {batch, 3, size, size}, torch::kInt64).to(torch::kUInt8);
  const auto keys = torch::arange(batch, torch::kInt64);
  gps::AugmentConfig cfg;
  cfg.preset = "strong";
  const auto aug = gps::make_augmentation(cfg, {0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f});
  uint64_t stream = 0;
  for (auto _ : st) benchmark::DoNotOptimize(aug->apply(images, keys, stream++, 0));
  st.SetItemsProcessed(st.iterations() * batch);
}
BENCHMARK(BM_StrongPreset)->Args({32, 256})->Args({224, 32})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
