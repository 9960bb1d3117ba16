// An image dataset: its pixels (an ImageSource: in memory, or an image store
// on disk), labels and normalisation statistics.
#pragma once

#include "gps/data/image_source.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

struct Dataset {
  std::string name;              // e.g. "fashion-mnist/train"
  ImageSourcePtr pixels;         // N images [C, H, W] uint8 (image_source.h)
  torch::Tensor labels;          // [N] int64, or undefined when unlabeled
  int64_t num_classes = 0;       // 0 when unlabeled
  std::vector<float> mean;       // per-channel normalisation, in [0, 1] units
  std::vector<float> std;
  std::string split;             // "train" | "test" (what precomputed priors are matched against)
  torch::Tensor source_index;    // [N] int64: row of each image in the full split (set by subsets)
  int64_t source_size = 0;       // images in the full split

  int64_t size() const { return pixels ? pixels->size() : 0; }
  int64_t channels() const { return pixels->shape()[0]; }
  int64_t height() const { return pixels->shape()[1]; }
  int64_t width() const { return pixels->shape()[2]; }
  bool has_labels() const { return labels.defined(); }

  // Rows `index` ([B] int64) as uint8 [B, C, H, W] (ImageSource::fetch).
  torch::Tensor fetch(const torch::Tensor& index) const { return pixels->fetch(index); }
  // Rows [start, start + n) as uint8 [n, C, H, W].
  torch::Tensor rows(int64_t start, int64_t n) const { return pixels->range(start, n); }
  // Every image as one [N, C, H, W] tensor: the images in memory, or all of
  // them read from disk (for sets that fit; streaming passes use rows()).
  torch::Tensor all_images() const;
  // The images in memory (set `pixels` to a memory source of `images`).
  void set_images(torch::Tensor images) { pixels = memory_source(std::move(images)); }

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

// The same statistics accumulated a block of images at a time: add() each
// block ([n, C, H, W] uint8), then stats() gives what compute_channel_stats
// gives for all the blocks together, to the last bit.
class ChannelStats {
 public:
  void add(const torch::Tensor& images);
  void stats(std::vector<float>& mean, std::vector<float>& std) const;

 private:
  int64_t channels_ = 0;
  double count_ = 0;             // pixels per channel
  std::vector<int64_t> hist_;    // [C, 256] counts
};

// A 64-bit fingerprint of the pixels (ImageSource::content_crc) and shape
// (and labels when present). Images in memory and the raw store packed from
// them give the same value.
uint64_t fingerprint(const Dataset& d);

}  // namespace gps
