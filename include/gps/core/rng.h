// Counter-based random numbers: a value depends only on (seed, stream ids),
// never on call order or thread count, so per-sample draws are reproducible
// whatever the number of workers.
#pragma once

#include <cstdint>

namespace gps {

// SplitMix64 finaliser: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Small generator seeded from a tuple of ids: Rng(seed, epoch, index, view).
class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0)
      : state_(mix64(mix64(mix64(mix64(seed) ^ a) ^ b) ^ c)) {}

  uint64_t next_u64() {
    state_ += 0x9E3779B97F4A7C15ull;
    return mix64(state_);
  }
  // Uniform in [0, 1).
  double uniform() { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, unbiased rejection).
  uint64_t below(uint64_t n) {
    uint64_t x = next_u64();
    __uint128_t m = static_cast<__uint128_t>(x) * n;
    uint64_t l = static_cast<uint64_t>(m);
    if (l < n) {
      uint64_t t = (0 - n) % n;
      while (l < t) {
        x = next_u64();
        m = static_cast<__uint128_t>(x) * n;
        l = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  bool bernoulli(double p) { return uniform() < p; }

 private:
  uint64_t state_;
};

}  // namespace gps
