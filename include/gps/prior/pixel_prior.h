// Pixel prior: flattened pixels normalised with the dataset's per-channel
// mean/std (PCA, when configured, wraps it: see pca.h).
#pragma once

#include "gps/prior/prior.h"

namespace gps {

class PixelPrior : public Prior {
 public:
  // [N, C*H*W] float32.
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override { return "pixels"; }
};

}  // namespace gps
