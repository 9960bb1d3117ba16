// Private to src/augment: OpenCV versions of the operations, working in
// place on one HWC uint8 image (CV_8UC1 or CV_8UC3, RGB order), and the
// conversions between [C, H, W] uint8 tensors and cv::Mat.
#pragma once

#include "gps/augment/color.h"
#include "gps/augment/geometry.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

namespace gps::cvimg {

// [C, H, W] uint8 (C = 1 or 3) -> a new HWC Mat. Throws gps::Error otherwise.
cv::Mat from_chw(const torch::Tensor& image, const char* what);
// C planes of H x W bytes (C = 1 or 3) -> a new HWC Mat; no torch calls, so
// it is cheap inside parallel regions.
cv::Mat from_planes(const uint8_t* chw, int C, int H, int W);
// HWC Mat -> a new [C, H, W] uint8 tensor.
torch::Tensor to_chw(const cv::Mat& m);

void resized_crop(const cv::Mat& in, const CropBox& box, int out_h, int out_w, Interp interp, cv::Mat& out);
void hflip(cv::Mat& m);
void color_jitter(cv::Mat& m, const JitterParams& p);
void to_grayscale(cv::Mat& m);
void solarize(cv::Mat& m, int threshold);
void equalize(cv::Mat& m);
void gaussian_blur(cv::Mat& m, double sigma);

}  // namespace gps::cvimg
