// Frozen-feature extraction for evaluation.
#pragma once

#include "gps/data/dataset.h"
#include "gps/models/resnet.h"

namespace gps {

// Backbone features of every image of d, in eval mode, without augmentation:
// [N, F] float32 CPU. Processes `batch_size` images at a time, no gradients.
torch::Tensor extract_features(ResNet backbone, const Dataset& d, int64_t batch_size = 512);

}  // namespace gps
