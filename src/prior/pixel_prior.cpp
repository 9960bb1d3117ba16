#include "gps/prior/pixel_prior.h"

#include "gps/augment/augment.h"

namespace gps {

namespace {
constexpr int64_t kBlockRows = 4096;  // images read at a time
}  // namespace

torch::Tensor PixelPrior::embed(const Dataset& d) const {
  // Streamed: the images are read a block at a time, the output is the memory.
  const int64_t D = d.channels() * d.height() * d.width();
  auto out = torch::empty({d.size(), D}, torch::kFloat32);
  for_each_block(*d.pixels, kBlockRows, [&](int64_t start, const torch::Tensor& images) {
    out.narrow(0, start, images.size(0)).copy_(to_normalized_float(images, d.mean, d.std).reshape({images.size(0), D}));
  });
  return out;
}

}  // namespace gps
