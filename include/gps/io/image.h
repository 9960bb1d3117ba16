// Writing images to disk (PNG through libpng).
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

// image: [C, H, W] uint8 CPU, C = 1 or 3 (RGB). Writes `path` (must end in
// .png). Throws gps::Error naming the path for bad input or a failed write.
void save_png(const std::string& path, const torch::Tensor& image);

}  // namespace gps
