// A prior g: a fixed map from images to embeddings in which nearest
// neighbours are candidate positives (paper eq. 3).
#pragma once

#include "gps/data/dataset.h"
#include "gps/prior/prior_config.h"

#include <memory>
#include <string>

namespace gps {

class Prior {
 public:
  virtual ~Prior() = default;
  // Embeddings of every image of `d`: [N, D] float32, CPU, row i for image i.
  // Deterministic (no augmentation).
  virtual torch::Tensor embed(const Dataset& d) const = 0;
  // Learns what the prior learns from data (PCA directions, an autoencoder)
  // from the unlabeled train split. embed() of the train split fits on it
  // when needed; embedding another split first needs fit(train). Fixed
  // priors ignore it. Calling it again with the same data changes nothing.
  virtual void fit(const Dataset& train) { (void)train; }
  // A string that changes whenever the embeddings would (kind and settings);
  // part of the neighbour-table fingerprint.
  virtual std::string describe() const = 0;
};

// The prior selected by `prior.*`. With a `cache_dir` and cfg.cache, the
// embeddings of torchscript, onnx and run priors are cached there
// (CachedPrior, before any PCA), and autoencoder / vae priors keep their
// trained model there. Throws gps::Error for an unknown kind.
std::unique_ptr<Prior> make_prior(const PriorConfig& cfg, const std::string& cache_dir = "");

}  // namespace gps
