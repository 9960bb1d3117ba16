#include "gps/train/batch_source.h"

#include "gps/core/device.h"
#include "gps/core/precision.h"
#include "gps/train/step_batch.h"

namespace gps {

// Several processes: this rank's contiguous rows of a global batch. Positions
// stay global, so each row's augmentation is the one a single process draws.
PairBatch shard(const PairBatch& pb, int rank, int world) {
  const int64_t n = pb.anchors.size(0) / world;
  return {pb.anchors.narrow(0, rank * n, n), pb.positives.narrow(0, rank * n, n), pb.positions.narrow(0, rank * n, n)};
}

}  // namespace gps
