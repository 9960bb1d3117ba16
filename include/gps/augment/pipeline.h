// The augmentation pipeline: ops in the reference order (docs/reference-behaviour.md §5)
// crop/resize -> colour jitter -> grayscale -> blur -> solarize -> equalize
// -> horizontal flip, then float conversion and per-channel normalisation.
//
// Random draws: each sample's parameters come from its own Rng(stream, key),
// in that order. An op with probability 0 (or a plain resize) draws nothing;
// otherwise it draws its Bernoulli first and, when applied, its parameters.
// So a pipeline of resize + flip draws exactly one Bernoulli per sample, as
// the `weak` preset (FlipAugmentation) does.
#pragma once

#include "gps/augment/augment.h"
#include "gps/augment/color.h"
#include "gps/augment/geometry.h"

#include <array>

namespace gps {

struct PipelineSpec {
  std::string name = "custom";      // for describe()
  int64_t size = 0;                 // output height = width; 0 = the input size
  bool random_crop = false;         // true: RandomResizedCrop (bicubic); false: resize (bilinear)
  double min_scale = 0.08, max_scale = 1.0;
  double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;
  double jitter_p = 0;
  JitterStrength jitter;
  double gray_p = 0;
  double blur_p = 0, blur_sigma_min = 0.1, blur_sigma_max = 2.0;
  double solarize_p = 0;
  int solarize_threshold = 128;
  double equalize_p = 0;
  double flip_p = 0;

  // Throws gps::Error naming the field when a value is out of range.
  void validate() const;
  std::string describe() const;
};

// Parses a pipeline written as ops, e.g.
//   "crop(0.2, 1) jitter(0.8, 0.4, 0.4, 0.2, 0.1) gray(0.2) blur(0.5) solarize(0.1) flip(0.5)"
// Ops (arguments optional from the right; defaults as torchvision / the reference):
//   crop(min_scale=0.08, max_scale=1, min_ratio=3/4, max_ratio=4/3)   RandomResizedCrop
//   jitter(p=0.8, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)
//   gray(p=0.2)   blur(p=0.5, sigma_min=0.1, sigma_max=2)   solarize(p=0.2, threshold=128)
//   equalize(p=0.5)   flip(p=0.5)
// separated by spaces or ';'. They run in the pipeline's fixed order (see the
// top of this file) whatever order they are written in; each may appear once.
// `key` names the config key in errors (unknown op, bad number, too many
// arguments, repeated op, out-of-range value).
PipelineSpec parse_pipeline_spec(const std::string& text, const std::string& key);

// One sample's draws (identity where an op is not applied).
struct SampleParams {
  CropBox box;                      // the whole image for a plain resize
  bool jitter = false;
  JitterParams jitter_params;
  bool gray = false, blur = false, solarize = false, equalize = false, flip = false;
  double sigma = 0;
};

// Draws one sample's parameters for an H x W input (see the header comment).
SampleParams sample_params(const PipelineSpec& spec, int64_t H, int64_t W, Rng& rng);

// image [C, H, W] uint8 (C = 1 or 3) -> [C, S, S] uint8 (S = spec.size, or
// H x W when 0) with the given parameters; no normalisation.
torch::Tensor augment_image(const torch::Tensor& image, const PipelineSpec& spec, const SampleParams& p);

// Multi-crop's local views: `count` views of `spec` (its size 0: 3/7 of the
// global views' size).
struct LocalCrops {
  int64_t count = 0;
  PipelineSpec spec;
};

// An Augmentation running `views[view]` on each sample (and locals.spec for
// views 2 .. 1 + locals.count), in parallel over the batch
// (at::parallel_for; output bit-identical for any thread count).
std::unique_ptr<Augmentation> make_pipeline_augmentation(std::array<PipelineSpec, 2> views,
                                                         std::vector<float> mean, std::vector<float> std,
                                                         LocalCrops locals = {});

}  // namespace gps
