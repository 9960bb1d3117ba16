// Pillow's resampling, bit for bit: what torchvision's Resize does to a PIL
// image, and so what CLIP's preprocessing (open_clip, OpenAI's clip) feeds
// its encoders. gps's augmentation resamples with OpenCV (geometry.h); a
// pretrained prior must see its inputs as its authors prepared them, so the
// prior path uses this where its sidecar says so (prior/sidecar.h).
//
// Pillow's algorithm (libImaging/Resample.c): a separable filter whose
// support widens by the scale when shrinking (antialiasing), coefficients
// normalised per output pixel and rounded to 22-bit fixed point, the
// horizontal pass first, each pass rounded and clamped to uint8.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace gps {

enum class PilFilter { bilinear, bicubic };  // Pillow's BILINEAR (support 1) and BICUBIC (a = -0.5, support 2)

// images: uint8 [B, C, H, W] on the CPU -> uint8 [B, C, out_h, out_w], as
// PIL's Image.resize((out_w, out_h), filter) on each image.
torch::Tensor pil_resize(const torch::Tensor& images, int64_t out_h, int64_t out_w, PilFilter filter);

// torchvision's Resize(size) then CenterCrop(size) on PIL images: the
// shorter side to `size` (the longer to int(size * long / short)), then the
// centre size x size crop (offsets rounded half to even, as Python's round).
torch::Tensor pil_resize_center_crop(const torch::Tensor& images, int64_t size, PilFilter filter);

}  // namespace gps
