// Gaussian blur of the augmentation pipeline (torchvision GaussianBlur with
// sigma ~ U[0.1, 2.0]).
//
// Kernel size rule: k = 2 * ceil(3 sigma) + 1 (the Gaussian cut at +-3
// sigma; at most 13 for sigma <= 2), clamped to the largest odd size not
// above the image's smaller side. References pass a fixed k = 23 at 224 px;
// the weights beyond 3 sigma hold < 0.3% of the mass, so results differ by
// at most one grey level, at a fraction of the cost, and one rule serves
// 28 px and 224 px alike.
//
// Known differences: OpenCV's separable 8-bit path uses fixed-point weights
// (values may differ by 1 from a float convolution); borders are reflected
// without repeating the edge (BORDER_REFLECT_101 = torch's 'reflect', as
// torchvision's tensor path). Solo-learn's PIL ImageFilter.GaussianBlur
// approximates the Gaussian with box blurs.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace gps {

// The odd kernel size for sigma > 0 (see the rule above), before clamping.
int64_t blur_kernel_size(double sigma);

// image [C, H, W] uint8 (C = 1 or 3) -> blurred [C, H, W] uint8, separable.
// Throws gps::Error unless sigma > 0.
torch::Tensor gaussian_blur(const torch::Tensor& image, double sigma);

}  // namespace gps
