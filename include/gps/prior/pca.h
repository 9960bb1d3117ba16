// Principal component analysis of embeddings: fitted on one set (the train
// split), applied to any other with the same dimension.
#pragma once

#include "gps/prior/prior.h"

#include <memory>

namespace gps {

struct Pca {
  torch::Tensor mean;        // [1, D] float64
  torch::Tensor components;  // [D, dim] float64, leading directions first, sign-fixed
};

// x: [N, D]; 1 <= dim <= D. Directions are eigenvectors of the covariance,
// each signed so that its largest-magnitude entry is positive (reproducible).
Pca fit_pca(const torch::Tensor& x, int64_t dim);
// (x - mean) @ components: [M, dim] float32.
torch::Tensor apply_pca(const Pca& pca, const torch::Tensor& x);
// apply_pca(fit_pca(x, dim), x).
torch::Tensor pca_project(const torch::Tensor& x, int64_t dim);

// A prior followed by PCA to `dim` dimensions. The PCA is fitted on the first
// train-split dataset embedded; embedding another split before that throws.
class PcaPrior : public Prior {
 public:
  PcaPrior(std::unique_ptr<Prior> base, int64_t dim) : base_(std::move(base)), dim_(dim) {}
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;
  void fit(const Dataset& train) override;

 private:
  std::unique_ptr<Prior> base_;
  int64_t dim_;
  mutable std::shared_ptr<Pca> pca_;
};

}  // namespace gps
