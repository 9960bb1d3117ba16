// The order in which an epoch visits its anchors.
//
//   random        a uniform random permutation of [0, N)
//   quasi-random  for data read from disk: the chunks (runs of chunk_rows
//                 consecutive rows, as an image store keeps them) in a random
//                 order, and the rows of each `window` consecutive chunks of
//                 that order shuffled together (FFCV's QUASI_RANDOM). A batch
//                 then reads anchors from at most `window` chunks, so the
//                 pages in use at any time are about window x chunk bytes.
// The GPS positive is drawn from the anchor's neighbours wherever they lie,
// so it stays a random read under either order (docs/data-stores.md).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace gps {

struct EpochOrder {
  std::string kind = "random";  // random | quasi-random
  int64_t chunk_rows = 0;       // quasi-random: rows per chunk (0 = kDefaultOrderChunkRows)
  int64_t window = 8;           // quasi-random: chunks shuffled together
};

// Rows per chunk for sources without chunks (images in memory).
constexpr int64_t kDefaultOrderChunkRows = 1024;

// Throws gps::Error naming data.order / data.order_window.
void validate(const EpochOrder& o);

// A permutation of [0, n), [n] int64, drawn from (seed, stream, epoch) only.
torch::Tensor make_epoch_order(int64_t n, const EpochOrder& o, uint64_t seed, uint64_t stream, int64_t epoch);

}  // namespace gps
