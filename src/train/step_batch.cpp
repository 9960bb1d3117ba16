#include "gps/train/step_batch.h"

namespace gps {

StepBatch make_step_batch(const PairBatch& pairs, const Augmentation& augment, const Dataset& data, uint64_t seed,
                          int64_t epoch, bool labels) {
  StepBatch v;
  v.pairs = pairs;
  v.x1 = augment.apply(data.images.index_select(0, pairs.anchors), pairs.positions, view_stream(seed, epoch, 0), 0);
  v.x2 = augment.apply(data.images.index_select(0, pairs.positives), pairs.positions, view_stream(seed, epoch, 1), 1);
  if (labels) v.labels = data.labels.index_select(0, pairs.anchors);
  return v;
}

}  // namespace gps
