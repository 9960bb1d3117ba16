// A cache of prior embeddings on disk, so an expensive prior (a TorchScript
// network, an earlier run's backbone) embeds each dataset once.
#pragma once

#include "gps/prior/prior.h"

#include <memory>
#include <string>

namespace gps {

// Wraps `inner`: embed(d) returns the embeddings saved under `cache_dir` as
// embeddings-<hash>.npy when its embeddings-<hash>.json key equals this
// one's, else computes them with `inner` and saves them (npy first under a
// temporary name, the json last, so a crash never leaves a complete-looking
// entry). The key is inner->describe() (model file path, size and mtime,
// preprocessing) + dataset name, image/label fingerprint and size. A
// damaged entry is reported on stderr and recomputed.
class CachedPrior : public Prior {
 public:
  CachedPrior(std::unique_ptr<Prior> inner, std::string cache_dir);
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override { return inner_->describe(); }
  void fit(const Dataset& train) override { inner_->fit(train); }

  // The cache key text and the .npy file of `d`'s embeddings.
  std::string key(const Dataset& d) const;
  std::string npy_path(const Dataset& d) const;

 private:
  std::unique_ptr<Prior> inner_;
  std::string dir_;
};

}  // namespace gps
