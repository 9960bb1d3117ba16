// Augmentation: uint8 images in, normalised float views out, with
// per-sample random parameters drawn from counter-based generators keyed by
// (stream, sample key), so results do not depend on batching or threads.
#pragma once

#include "gps/augment/views.h"

#include "gps/augment/augment_config.h"
#include "gps/core/rng.h"
#include "gps/data/dataset.h"

#include <memory>
#include <string>
#include <vector>

namespace gps {

class Augmentation {
 public:
  virtual ~Augmentation() = default;
  // images: [B, C, H, W] uint8 CPU. keys: [B] int64, one per sample.
  // view: which view of the step (views()); 0 and 1 the global views (only
  // asymmetric presets differ), >= 2 the local views of a multi-crop preset.
  // Returns [B, C, S, S] float32 (S = augment.crop_size, or H x W when 0):
  // augmented, scaled to [0, 1] and normalised with mean/std (one value per
  // channel). The same (stream, key, view) always gives the same output.
  virtual torch::Tensor apply(const torch::Tensor& images, const torch::Tensor& keys, uint64_t stream,
                              int view) const = 0;
  virtual std::string describe() const = 0;
  // The views a training step makes, in order: view k is apply(images of
  // views()[k], keys, view_stream(seed, epoch, k), k). View 0 of the anchors
  // and view 1 of their positives (the global views); with
  // augment.local_crops = M, M local views follow, made alternately of the
  // anchors (views 2, 4, ...) and of the positives (3, 5, ...).
  virtual std::vector<ViewOf> views() const { return {ViewOf::anchor, ViewOf::positive}; }
};

// The preset named by cfg.preset, normalising with the dataset's mean/std
// (docs/reference-behaviour.md §5): none | weak (flip; resize when crop_size is set) |
// weak-rrc (RRC 0.08-1 + flip) | strong | asymmetric | vicreg. `none` and
// `weak` without crop_size keep their original implementations (and draws).
std::unique_ptr<Augmentation> make_augmentation(const AugmentConfig& cfg, const std::vector<float>& mean,
                                                const std::vector<float>& std);

// The random stream of view `view` in `epoch` of a run seeded with `seed`:
// what the trainer passes to Augmentation::apply, with the samples' epoch
// positions as keys (gps_ssl.Augment uses the same). Views 0 and 1 (the
// global views) keep the streams of every earlier version; a local view
// (multi-crop, view >= 2) has its own, keyed by (epoch, view) in a separate
// domain, since epoch * 2 + 2 is view 0 of the next epoch.
inline uint64_t view_stream(uint64_t seed, int64_t epoch, int view) {
  if (view < 2) return mix64(seed ^ mix64(uint64_t(epoch) * 2 + uint64_t(view)));
  return mix64(seed ^ mix64(0x6c6f63616c63726fULL ^ mix64(uint64_t(epoch) * 1024 + uint64_t(view))));
}

// Deterministic conversion used for evaluation and priors: [B,C,H,W] uint8 ->
// normalised float32.
torch::Tensor to_normalized_float(const torch::Tensor& images, const std::vector<float>& mean,
                                  const std::vector<float>& std);

// Mirrors each image whose flag is set: images [B, C, H, W] (any dtype), flip [B] bool.
torch::Tensor flip_where(const torch::Tensor& images, const torch::Tensor& flip);

}  // namespace gps
