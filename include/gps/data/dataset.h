// An in-memory image dataset: every image in one uint8 tensor.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

struct Dataset {
  std::string name;              // e.g. "fashion-mnist/train"
  torch::Tensor images;          // [N, C, H, W] uint8, contiguous, CPU
  torch::Tensor labels;          // [N] int64, or undefined when unlabeled
  int64_t num_classes = 0;       // 0 when unlabeled
  std::vector<float> mean;       // per-channel normalisation, in [0, 1] units
  std::vector<float> std;
  std::string split;             // "train" | "test" (what precomputed priors are matched against)
  torch::Tensor source_index;    // [N] int64: row of each image in the full split (set by subsets)
  int64_t source_size = 0;       // images in the full split

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
  bool has_labels() const { return labels.defined(); }

  // Throws gps::Error unless the invariants above hold.
  void validate() const;
};

// Rows `index` ([M] int64) of `d`, labels and statistics kept.
Dataset select(const Dataset& d, const torch::Tensor& index);

// A class-stratified subset of n images (each class keeps its share, rounded,
// at least one image per class present); deterministic for a seed. Without
// labels, a uniform random subset. n >= d.size() returns d unchanged.
Dataset stratified_subset(const Dataset& d, int64_t n, uint64_t seed);

// Per-channel mean and std of the images in [0, 1] units.
void compute_channel_stats(const torch::Tensor& images, std::vector<float>& mean,
                           std::vector<float>& std);

// A 64-bit fingerprint of the image bytes and shape (and labels when present).
uint64_t fingerprint(const Dataset& d);

}  // namespace gps
