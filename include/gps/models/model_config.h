// The model.* keys: the backbone.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace gps {

struct ModelConfig {
  std::string arch = "resnet18";  // resnet18 | resnet50 | vit_tiny | vit_small
  int64_t width = 64;           // channels of the first stage (64 = torchvision)
  bool small_stem = true;       // 3x3 stride-1 conv stem, no max-pool (28/32 px images)
  int64_t stem_padding = 2;     // padding of the small stem (2 as in solo-learn)
  std::string init_from;        // .npz of torchvision-named backbone weights to start from ("" = random init)
  int64_t patch_size = 16;      // ViT: side of the square patches (4 for 28/32 px images)
  int64_t image_size = 224;     // ViT: image side its position embeddings are made for (others interpolate them)
};

// JSON with the key names of the model.* keys (an earlier run's backbone, read
// by the "run" prior from the run's config.yaml); absent keys keep their default.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelConfig, arch, width, small_stem, stem_padding, init_from, patch_size,
                                                image_size)

}  // namespace gps
