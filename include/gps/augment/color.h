// Photometric operations of the augmentation pipeline, with torchvision's
// PIL-path semantics (solo-learn applies them to PIL images).
//
// Known differences (documented, accepted):
// - Blends (brightness, contrast, saturation) compute deg + f * (img - deg)
//   in float and truncate to uint8, as PIL's Image.blend; the contrast mean
//   is the grey image's mean rounded to an integer, as PIL.
// - Grey values come from OpenCV's RGB2GRAY (0.299, 0.587, 0.114 in 14-bit
//   fixed point, rounded); PIL uses 16-bit weights: values may differ by 1.
// - Hue is shifted in OpenCV's 8-bit full-range HSV (hue 0..255, like PIL's
//   HSV mode) by trunc(255 * h) mod 256, as torchvision's PIL path; OpenCV's
//   HSV round trip rounds differently from PIL's by at most a few levels.
// - Saturation and hue leave 1-channel images unchanged, as torchvision.
#pragma once

#include "gps/core/rng.h"

#include <torch/torch.h>

#include <array>

namespace gps {

// ColorJitter strengths: brightness, contrast, saturation >= 0, hue in [0, 0.5].
struct JitterStrength {
  double brightness = 0, contrast = 0, saturation = 0, hue = 0;
};

// One draw of ColorJitter: factors and the order of the four ops
// (0 brightness, 1 contrast, 2 saturation, 3 hue).
struct JitterParams {
  std::array<int, 4> order{0, 1, 2, 3};
  double brightness = 1, contrast = 1, saturation = 1, hue = 0;
};

// As torchvision ColorJitter.get_params: a random permutation, then each
// factor with a non-zero strength x ~ U[max(0, 1 - x), 1 + x] (hue ~ U[-h, h]);
// ops with zero strength keep the identity factor and draw nothing.
// Throws gps::Error for a negative strength or hue > 0.5.
JitterParams sample_jitter(const JitterStrength& s, Rng& rng);

// image [C, H, W] uint8 (C = 1 or 3): the four adjustments in p.order.
torch::Tensor color_jitter(const torch::Tensor& image, const JitterParams& p);

// image [C, H, W] uint8: luma 0.299 R + 0.587 G + 0.114 B copied to every
// channel (C kept); 1-channel images are returned unchanged.
torch::Tensor to_grayscale(const torch::Tensor& image);

// image [C, H, W] uint8: pixels >= threshold become 255 - v.
torch::Tensor solarize(const torch::Tensor& image, int threshold = 128);

// image [C, H, W] uint8: per-channel histogram equalisation as PIL's
// ImageOps.equalize (and torchvision's F.equalize): step = (N - count of the
// last used level) / 255; lut[v] = (step/2 + #pixels below v) / step clipped
// to 255; a channel with one level or step 0 is unchanged. (cv::equalizeHist
// normalises by the first used level and differs.)
torch::Tensor equalize(const torch::Tensor& image);

}  // namespace gps
