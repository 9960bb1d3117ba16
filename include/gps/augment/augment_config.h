// The augment.* keys: the two views of a positive pair.
#pragma once

#include <cstdint>
#include <string>

namespace gps {

struct AugmentConfig {
  std::string preset = "weak";  // none | weak (RHFlipAug) | weak-rrc | strong | asymmetric | vicreg | custom
  double flip_p = 0.5;          // horizontal flip probability (every preset but none)
  int64_t crop_size = 0;        // output height = width; 0 = the input size
  double min_scale = 0;         // random-resized-crop area fraction; 0 = the preset's (0.08, vicreg 0.2)
  double max_scale = 0;         // 0 = the preset's (1.0)
  std::string view1;            // preset custom: ops of view 1, e.g. "crop(0.2) jitter(0.8,0.4,0.4,0.2,0.1) flip(0.5)"
  std::string view2;            // preset custom: ops of view 2 ("" = as view 1)
};

// Checks among the augment.* keys (views only for custom, crop scales only
// for presets with a crop); throws gps::Error naming the keys.
void validate(const AugmentConfig& cfg);

}  // namespace gps
