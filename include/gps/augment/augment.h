// Augmentation: uint8 images in, normalised float views out, with
// per-sample random parameters drawn from counter-based generators keyed by
// (stream, sample key), so results do not depend on batching or threads.
#pragma once

#include "gps/config/config.h"
#include "gps/data/dataset.h"

#include <memory>
#include <string>
#include <vector>

namespace gps {

class Augmentation {
 public:
  virtual ~Augmentation() = default;
  // images: [B, C, H, W] uint8 CPU. keys: [B] int64, one per sample.
  // Returns [B, C, H, W] float32: augmented, scaled to [0, 1] and normalised
  // with mean/std (one value per channel).
  virtual torch::Tensor apply(const torch::Tensor& images, const torch::Tensor& keys, uint64_t stream) const = 0;
  virtual std::string describe() const = 0;
};

// The preset named by cfg.preset ("none" | "weak"), normalising with the
// dataset's mean/std.
std::unique_ptr<Augmentation> make_augmentation(const AugmentConfig& cfg, const std::vector<float>& mean,
                                                const std::vector<float>& std);

// Deterministic conversion used for evaluation and priors: [B,C,H,W] uint8 ->
// normalised float32.
torch::Tensor to_normalized_float(const torch::Tensor& images, const std::vector<float>& mean,
                                  const std::vector<float>& std);

// Mirrors each image whose flag is set: images [B, C, H, W] (any dtype), flip [B] bool.
torch::Tensor flip_where(const torch::Tensor& images, const torch::Tensor& flip);

}  // namespace gps
