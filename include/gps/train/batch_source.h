// The training loop's batches: a step's pairs and views, made on the host
// and uploaded to the training device.
#pragma once

#include "gps/augment/augment.h"
#include "gps/core/device.h"
#include "gps/core/precision.h"
#include "gps/data/dataset.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/step_batch.h"
#include "gps/train/train_step.h"

namespace gps {

// Several processes: this rank's contiguous rows of a global batch. Positions
// stay global, so each row's augmentation is the one a single process draws.
PairBatch shard(const PairBatch& pb, int rank, int world);

// Batch b of an epoch: pairs and their views, made on the CPU (in pinned
// memory when the model is on a GPU), then copied to the device without
// waiting. Each view's random parameters are keyed by (seed, epoch, view,
// position), so any step can be redone.
class BatchSource {
 public:
  BatchSource(const PairSampler& sampler, const Augmentation& augment, const Dataset& data, uint64_t seed, bool labels,
              int rank, int world, const torch::Device& device, bool channels_last,
              torch::ScalarType dtype = torch::kFloat32)
      : sampler_(sampler), augment_(augment), data_(data), seed_(seed), labels_(labels), rank_(rank), world_(world),
        device_(device), channels_last_(channels_last), dtype_(dtype) {}

  // Called on the loop's thread, or on the prefetch worker (Prefetcher).
  StepBatch host(int64_t epoch, const torch::Tensor& order, int64_t b) const {
    PairBatch pairs = sampler_.batch(epoch, order, b);
    if (world_ > 1) pairs = shard(pairs, rank_, world_);
    StepBatch v = make_step_batch(pairs, augment_, data_, seed_, epoch, labels_);
    for (auto& view : v.views) view.images = pin_for(view.images, device_);
    if (v.labels.defined()) v.labels = pin_for(v.labels, device_);
    return v;
  }

  StepBatch upload(StepBatch v) const {
    for (auto& view : v.views) {
      view.images = with_memory_format(to_device(view.images, device_), channels_last_);
      if (view.images.scalar_type() != dtype_) view.images = view.images.to(dtype_);  // train.precision=fp64
    }
    if (v.labels.defined()) v.labels = to_device(v.labels, device_);
    return v;
  }

 private:
  const PairSampler& sampler_;
  const Augmentation& augment_;
  const Dataset& data_;
  uint64_t seed_;
  bool labels_;
  int rank_, world_;
  torch::Device device_;
  bool channels_last_;
  torch::ScalarType dtype_;
};

}  // namespace gps
