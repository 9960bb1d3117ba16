// Pixel prior: flattened pixels normalised with the dataset's per-channel
// mean/std, optionally projected on the top principal components.
#pragma once

#include "gps/prior/prior.h"

namespace gps {

class PixelPrior : public Prior {
 public:
  explicit PixelPrior(int64_t pca_dim = 0) : pca_dim_(pca_dim) {}
  // [N, C*H*W] float32, or [N, pca_dim] when pca_dim > 0 (centred data
  // projected on the leading eigenvectors of its covariance; pca_dim must
  // not exceed C*H*W).
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;

 private:
  int64_t pca_dim_;
};

// Centred x [N, D] projected on its `dim` leading principal directions: [N, dim].
torch::Tensor pca_project(const torch::Tensor& x, int64_t dim);

}  // namespace gps
