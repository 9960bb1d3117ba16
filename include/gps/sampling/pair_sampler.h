// The GPS positive-pair sampler. Each epoch visits every anchor once in a
// seeded random order, and draws its positive uniformly from the anchor's
// candidates in the neighbour table. Plain SSL is this sampler with a
// self-only table (anchor == positive), so both share one code path.
#pragma once

#include "gps/neighbors/neighbor_table.h"
#include "gps/sampling/epoch_order.h"

#include <cstdint>

namespace gps {

struct PairBatch {
  torch::Tensor anchors;    // [B] int64 image ids
  torch::Tensor positives;  // [B] int64 image ids, positives[b] in candidates(anchors[b])
  torch::Tensor positions;  // [B] int64 positions in the epoch order (stable per-sample keys)
};

class PairSampler {
 public:
  // drop_last: an epoch has floor(N / batch) full batches (as the reference).
  PairSampler(NeighborTable table, int64_t batch_size, uint64_t seed, EpochOrder order = {});

  int64_t size() const { return table_.size(); }
  int64_t batches_per_epoch() const { return size() / batch_; }
  // Order of anchors in `epoch` (epoch_order.h): a permutation of [0, N), [N] int64.
  torch::Tensor epoch_order(int64_t epoch) const;
  // The positive of `anchor` when visited in `epoch`: a pure function of
  // (seed, epoch, anchor), independent of batching and threads.
  int64_t positive(int64_t epoch, int64_t anchor) const;
  // Batch `b` of `epoch`, given that epoch's order.
  PairBatch batch(int64_t epoch, const torch::Tensor& order, int64_t b) const;

  const NeighborTable& table() const { return table_; }
  void set_table(NeighborTable t);

 private:
  NeighborTable table_;
  int64_t batch_;
  uint64_t seed_;
  EpochOrder order_;
};

}  // namespace gps
