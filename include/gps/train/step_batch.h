// The input of one training step, made on the CPU: the step's pairs and both
// augmented views. Each view's random parameters are keyed by (seed, epoch,
// view, epoch position), so any step can be made again: the trainer, `gps
// batch` and gps_ssl (python/) make the same tensors.
#pragma once

#include "gps/augment/augment.h"
#include "gps/data/dataset.h"
#include "gps/train/train_step.h"

namespace gps {

// The augmentation's views (Augmentation::views: view k of the anchors or
// of the positives, float32 [B, C, S, S]), labels = the anchors' labels when
// `labels` (else undefined).
StepBatch make_step_batch(const PairBatch& pairs, const Augmentation& augment, const Dataset& data, uint64_t seed,
                          int64_t epoch, bool labels);

}  // namespace gps
