// The augment.* keys: the two views of a positive pair.
#pragma once

#include <cstdint>
#include <string>

namespace gps {

struct AugmentConfig {
  // none | weak (RHFlipAug) | weak-rrc | strong (the method's reference preset, methods/recipes.h) |
  // symmetric | symmetric-weak | asymmetric | vicreg | custom
  std::string preset = "weak";
  double flip_p = 0.5;          // horizontal flip probability (every preset but none)
  int64_t crop_size = 0;        // output height = width; 0 = the input size
  double min_scale = 0;         // random-resized-crop area fraction; 0 = the preset's (0.08, vicreg 0.2)
  double max_scale = 0;         // 0 = the preset's (1.0)
  std::string view1;            // preset custom: ops of view 1, e.g. "crop(0.2) jitter(0.8,0.4,0.4,0.2,0.1) flip(0.5)"
  std::string view2;            // preset custom: ops of view 2 ("" = as view 1)
  // Multi-crop (DINO, SwAV): local views after the two global ones, made
  // alternately of the anchor and of the positive (views.h).
  int64_t local_crops = 0;      // number of local views (0: two views, as every two-view method)
  int64_t local_size = 0;       // their size in pixels; 0 = 3/7 of the global views' (96 of 224, 12 of 28)
  double local_min_scale = 0.05;  // their random-resized-crop area fraction, from ...
  double local_scale = 0.4;       // ... to (DINO's local_crops_scale)
};

// Checks among the augment.* keys (views only for custom, crop scales only
// for presets with a crop); throws gps::Error naming the keys.
void validate(const AugmentConfig& cfg);

}  // namespace gps
