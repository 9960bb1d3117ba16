// Frozen-feature extraction for evaluation.
#pragma once

#include "gps/data/dataset.h"
#include "gps/models/backbone.h"

namespace gps {

// Backbone features of every image of d, in eval mode, without augmentation,
// computed on the backbone's device: [N, F] float32 on `out` (default the
// CPU; the trainer keeps them on the training device for the probes).
// Processes `batch_size` images at a time, no gradients.
torch::Tensor extract_features(Backbone backbone, const Dataset& d, int64_t batch_size = 512,
                               const torch::Device& out = torch::kCPU);

}  // namespace gps
