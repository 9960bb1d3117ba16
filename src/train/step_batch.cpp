#include "gps/train/step_batch.h"

namespace gps {

StepBatch make_step_batch(const PairBatch& pairs, const Augmentation& augment, const Dataset& data, uint64_t seed,
                          int64_t epoch, bool labels) {
  StepBatch v;
  v.pairs = pairs;
  const auto made_of = augment.views();
  // Each image is read (and, from a JPEG store, decoded) once per step,
  // however many views are made of it.
  torch::Tensor anchors, positives;
  for (size_t k = 0; k < made_of.size(); ++k) {
    auto& images = made_of[k] == ViewOf::anchor ? anchors : positives;
    if (!images.defined()) images = data.fetch(made_of[k] == ViewOf::anchor ? pairs.anchors : pairs.positives);
    v.views.push_back({augment.apply(images, pairs.positions,
                                     view_stream(seed, epoch, int(k)), int(k)),
                       made_of[k]});
  }
  if (labels) v.labels = data.labels.index_select(0, pairs.anchors);
  return v;
}

}  // namespace gps
