// Geometric operations of the augmentation pipeline: random resized crop
// (torchvision RandomResizedCrop), resize and horizontal flip.
//
// Known differences from torchvision on PIL images (documented, accepted):
// - Resampling uses OpenCV: INTER_CUBIC (Keys kernel a = -0.75, as torch's
//   tensor bicubic; PIL uses a = -0.5) and INTER_LINEAR, with pixel-centre
//   alignment and edge replication at the border (as torch tensors). There is
//   no antialiasing when shrinking (PIL always filters with a widened
//   kernel); at 28-32 px crops are almost always enlarged, so this rarely
//   matters. uint8 results are rounded to nearest and saturated; OpenCV uses
//   11-bit fixed-point weights for 8-bit images, so values may differ by 1.
#pragma once

#include "gps/core/rng.h"

#include <torch/torch.h>

#include <cstdint>

namespace gps {

// A crop rectangle inside an image: rows [top, top+height), cols [left, left+width).
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

enum class Interp { bilinear, bicubic };

// torchvision RandomResizedCrop.get_params: up to 10 attempts with area
// fraction ~ U[min_scale, max_scale] and log(aspect) ~ U[log min_ratio,
// log max_ratio] (w, h rounded half-to-even, as Python's round); the first
// box that fits is placed uniformly. Otherwise the central crop of the whole
// image clamped to the ratio range. Requires H, W >= 1,
// 0 < min_scale <= max_scale <= 1 and 0 < min_ratio <= max_ratio.
// Guarantees 1 <= height <= H, 1 <= width <= W, box inside the image.
CropBox random_resized_crop_box(int64_t H, int64_t W, double min_scale, double max_scale, double min_ratio,
                                double max_ratio, Rng& rng);

// image [C, H, W] uint8 (C = 1 or 3) -> [C, out_h, out_w] uint8: the box
// resampled to the output size (a box equal to the whole image at the same
// size is copied exactly). Throws gps::Error for a box outside the image.
torch::Tensor resized_crop(const torch::Tensor& image, const CropBox& box, int64_t out_h, int64_t out_w,
                           Interp interp);

// image [C, H, W] uint8 -> mirrored left-right, exactly.
torch::Tensor hflip(const torch::Tensor& image);

}  // namespace gps
